import Foundation

/// `scripts/test-servers/http_receiver.py` on 127.0.0.1: answers with the
/// status it is told to (or stalls), counts and logs what it receives.
final class HTTPReceiver {
  let process: RunningProcess
  let port: Int
  let logPath: String

  static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("scripts/test-servers/http_receiver.py").path

  /// With `secret`, the receiver checks each request's Opsdeck-Signature.
  init(in workspace: Workspace, secret: String? = nil) throws {
    let portFile = workspace.path("receiver-\(UUID().uuidString.prefix(6)).port")
    logPath = portFile + ".log"
    process = try Programs.start(
      "/usr/bin/env", ["python3", Self.script, portFile, logPath], in: workspace.url,
      environment: secret.map { ["WEBHOOK_SECRET": $0] } ?? [:])
    var port: Int? = nil
    for _ in 0..<500 {
      if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let number = Int(text) {
        port = number
        break
      }
      usleep(10_000)
    }
    guard let port else { throw ReceiverFailure() }
    self.port = port
  }

  struct ReceiverFailure: Error {}

  var base: String { "http://127.0.0.1:\(port)" }

  /// Every later request gets `status` ("200", "500", "stall", …).
  func answer(_ status: String) throws {
    _ = try get("/control?status=\(status)")
  }

  /// How many requests (other than control ones) arrived.
  func count() throws -> Int {
    let text = try get("/count")
    let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    return object?["count"] as? Int ?? -1
  }

  /// The logged requests, oldest first.
  func requests() throws -> [[String: Any]] {
    guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
    return try text.split(separator: "\n").map {
      try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
    }
  }

  private func get(_ path: String) throws -> String {
    let fetch = "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())"
    return try Programs.run(
      "/usr/bin/env", ["python3", "-c", fetch, base + path], in: FileManager.default.temporaryDirectory
    )
    .stdout
  }

  deinit { kill(process.pid, SIGKILL); _ = try? process.wait(timeout: 5) }
}
