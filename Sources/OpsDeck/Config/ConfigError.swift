import Storage

/// A configuration file that cannot be used, with the facts needed to fix
/// it: the file, the line when it is known, the key and what was expected.
public struct ConfigError: ReportableError, Equatable {
  public let file: String
  public let line: Int?
  public let column: Int?
  public let key: String?
  public let message: String

  public init(file: String, line: Int? = nil, column: Int? = nil, key: String? = nil, message: String) {
    self.file = file
    self.line = line
    self.column = column
    self.key = key
    self.message = message
  }

  public var description: String {
    var text = file
    if let line { text += ":\(line)" }
    if let line, let column, line > 0 { text += ":\(column)" }
    text += ": "
    if let key { text += "\(key): " }
    return TerminalText.sanitize(text + message)
  }

  public var isBadInput: Bool { true }
}
