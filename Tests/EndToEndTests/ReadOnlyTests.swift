import Foundation
import Testing

/// A database the user may read but not write: viewing works, changing it
/// fails with one line naming the file.
@Suite struct ReadOnlyTests {
  /// Runs opsdeck as an unprivileged user: `nobody` when the tests run as
  /// root (root may write anything), else the current user.
  func asViewer(_ workspace: Workspace, _ arguments: [String]) throws -> Outcome {
    guard getuid() == 0 else { return try workspace.opsdeck(arguments) }
    // nobody may not be able to reach the build folder; give it a copy.
    let binary = workspace.path("opsdeck-copy")
    if !workspace.exists("opsdeck-copy") {
      // Written through a close-on-exec descriptor: a process that other
      // tests spawn meanwhile must not inherit it (exec would then fail
      // with "Text file busy").
      let contents = try Data(contentsOf: URL(fileURLWithPath: Programs.opsdeck))
      let fd = open(binary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
      guard fd >= 0 else { throw POSIXError(.EIO) }
      _ = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      close(fd)
    }
    return try Programs.run(
      "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", binary] + arguments, in: workspace.url)
  }

  @Test func aReadOnlyFileCanBeViewedButNotMigrated() throws {
    let workspace = try Workspace()
    let data = workspace.url.appendingPathComponent("data")
    try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
    let path = data.appendingPathComponent("x.db").path
    #expect(try workspace.opsdeck(["--db", path, "init", "--no-config"]).status == 0)
    try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: path)
    try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: data.path)
    defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: data.path) }

    let status = try asViewer(workspace, ["--db", path, "status", "--json"])
    #expect(status.status == 0, "\(status.stderr)")
    #expect(try jsonField(status.stdout, "read_only") == "1")
    #expect(status.stdout.contains(#""migrations_pending":[]"#))

    let migrate = try asViewer(workspace, ["--db", path, "migrate"])
    #expect(migrate.status == 1)
    #expect(migrate.stderr.hasPrefix("opsdeck: cannot write \(path): "))
    #expect(migrate.stderrLines.count == 1)
    #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
  }
}
