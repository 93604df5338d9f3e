import Foundation
import Testing

/// Compares screen text with a golden file in Snapshots/; with
/// RECORD_SNAPSHOTS=1 the file is rewritten instead.
func assertSnapshot(_ text: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
  let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")
  let file = directory.appendingPathComponent(name + ".txt")
  let actual = text + "\n"
  if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] == "1" {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try actual.write(to: file, atomically: true, encoding: .utf8)
    return
  }
  guard let expected = try? String(contentsOf: file, encoding: .utf8) else {
    Issue.record(
      Comment(rawValue: "no golden file \(name).txt: run with RECORD_SNAPSHOTS=1"), sourceLocation: sourceLocation)
    return
  }
  guard expected != actual else { return }
  let want = expected.split(separator: "\n", omittingEmptySubsequences: false)
  let got = actual.split(separator: "\n", omittingEmptySubsequences: false)
  var diff: [String] = []
  for index in 0..<max(want.count, got.count) {
    let a = index < want.count ? String(want[index]) : "<none>"
    let b = index < got.count ? String(got[index]) : "<none>"
    if a != b { diff.append("line \(index + 1):\n- \(a)\n+ \(b)") }
  }
  let details = diff.prefix(8).joined(separator: "\n")
  Issue.record(
    Comment(rawValue: "\(name).txt differs (RECORD_SNAPSHOTS=1 rewrites it):\n\(details)"),
    sourceLocation: sourceLocation)
}
