/// `${NAME}` in a string value is replaced by that environment variable,
/// `${NAME:-fallback}` falls back when it is unset or empty, `$$` is a
/// literal `$`. An unset variable without a fallback is an error, never an
/// empty password.
enum EnvironmentSubstitution {
  struct Failure: Error {
    let message: String
  }

  static func apply(_ text: String, environment: [String: String]) throws(Failure) -> String {
    guard text.contains("$") else { return text }
    var output = ""
    var rest = Substring(text)
    while let dollar = rest.firstIndex(of: "$") {
      output += rest[..<dollar]
      let after = rest[rest.index(after: dollar)...]
      if after.first == "$" {
        output += "$"
        rest = after.dropFirst()
        continue
      }
      guard after.first == "{" else {
        output += "$"
        rest = after
        continue
      }
      guard let close = after.firstIndex(of: "}") else {
        throw Failure(message: "'${' without a closing '}' (write $$ for a literal $)")
      }
      let body = after[after.index(after: after.startIndex)..<close]
      let name: Substring
      let fallback: Substring?
      if let separator = body.range(of: ":-") {
        name = body[..<separator.lowerBound]
        fallback = body[separator.upperBound...]
      } else {
        name = body
        fallback = nil
      }
      guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
        throw Failure(message: "'${\(body)}' is not a valid environment variable reference")
      }
      if let value = environment[String(name)], !value.isEmpty {
        output += value
      } else if let fallback {
        output += fallback
      } else {
        throw Failure(message: "environment variable \(name) is not set")
      }
      rest = after[after.index(after: close)...]
    }
    output += rest
    return output
  }
}
