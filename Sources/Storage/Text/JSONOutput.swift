import Foundation

/// How every `--json` listing is written: UTC ISO-8601 times with `Z`,
/// keys sorted so output diffs cleanly. Keys are snake_case through each
/// type's `CodingKeys`, not a key strategy: a strategy would also rewrite
/// the keys inside a job's data.
public enum JSONOutput {
  public static func encoder(pretty: Bool = false) -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .custom { date, encoder in
      var container = encoder.singleValueContainer()
      try container.encode(Timestamp.format(date))
    }
    encoder.outputFormatting =
      pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }

  public static func string<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
    String(decoding: try encoder(pretty: pretty).encode(value), as: UTF8.self)
  }
}
