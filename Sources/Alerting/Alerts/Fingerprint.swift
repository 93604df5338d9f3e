/// Alertmanager's label-set fingerprint: FNV-1a (64 bit) over the label
/// names in order, each name and value followed by the byte 0xFF, printed
/// as 16 hex digits. `{}` is `cbf29ce484222325` (FNV's offset basis).
public enum Fingerprint {
  static let offset: UInt64 = 14_695_981_039_346_656_037
  static let prime: UInt64 = 1_099_511_628_211
  static let separator: UInt8 = 0xFF

  public static func of(_ labels: [String: String]) -> String {
    var hash = offset
    func add(_ byte: UInt8) {
      hash ^= UInt64(byte)
      hash = hash &* prime
    }
    for name in labels.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
      for byte in name.utf8 { add(byte) }
      add(separator)
      for byte in labels[name]!.utf8 { add(byte) }
      add(separator)
    }
    let hex = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
  }
}
