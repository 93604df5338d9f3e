import Foundation
import Storage
import Testing

struct JSONObjectTests {
  /// The fast writer of label sets writes what the encoder writes.
  @Test func theFastObjectWriterMatchesTheEncoder() throws {
    let samples: [[String: String]] = [
      [:], ["b": "2", "a": "1"], ["quote": "say \"hi\"", "slash": "a\\b/c", "control": "tab\there\u{1}", "é": "ünï ✓"],
      ["newline": "one\ntwo\r"],
    ]
    for sample in samples {
      #expect(JSONOutput.object(sample) == (try JSONOutput.string(sample)))
      let back = try JSONSerialization.jsonObject(with: Data(JSONOutput.object(sample).utf8)) as? [String: String]
      #expect(back == sample)
      #expect(JSONOutput.parseObject(JSONOutput.object(sample)) == sample)
    }
  }

  @Test func theFastReaderFallsBackOrRefuses() {
    #expect(JSONOutput.parseObject(#"{ "a" : "1" , "b":"\u00e9" }"#) == ["a": "1", "b": "é"])
    #expect(JSONOutput.parseObject(#"{"a": 1}"#) == nil)
    #expect(JSONOutput.parseObject("[]") == nil)
    #expect(JSONOutput.parseObject(#"{"a": "unterminated}"#) == nil)
  }
}
