import Foundation
import Mustache
import Storage

/// A rendered e-mail.
public struct RenderedEmail: Sendable, Equatable {
  public var subject: String
  public var text: String
  public var html: String?
}

/// Lifecycle's Mustache templates: `NAME.txt.mustache` (required) and
/// `NAME.html.mustache` (optional) in the templates directory; subjects
/// are Mustache strings from the config. Text parts and subjects are not
/// HTML-escaped; HTML parts are.
public struct Templates: Sendable {
  public let directory: String

  public init(directory: String) {
    self.directory = directory
  }

  /// The variables every template may use.
  public static let accountVariables = [
    "name", "account_id", "email", "plan", "days_left", "hours_left", "trial_ends_on", "onboarding_done",
    "onboarding_total", "next_step", "next_step_id", "unsubscribe_url", "upgrade_plan", "usage", "company",
  ]
  /// What each item of `{{#usage}}` holds.
  public static let usageVariables = ["metric", "used", "limit", "percent"]
  /// The variables of the occasional e-mails, by template kind.
  public static let occasionVariables: [String: [String]] = [
    "usage": ["metric", "percent", "threshold", "used", "limit"],
    "upgrade": ["metric"],
    "reengage": ["idle_days"],
  ]

  static let textPragma = "{{% CONTENT_TYPE: TEXT}}"

  /// A subject compiled once, for rendering many times.
  public static func compileSubject(_ subject: String) -> MustacheTemplate? {
    try? MustacheTemplate(string: textPragma + subject)
  }

  func path(_ name: String, _ kind: String) -> String { "\(directory)/\(name).\(kind).mustache" }

  func source(_ name: String, _ kind: String) -> String? {
    try? String(contentsOfFile: path(name, kind), encoding: .utf8)
  }

  public func render(template name: String, subject: String, variables: [String: Any]) throws -> RenderedEmail {
    guard let text = source(name, "txt") else {
      throw LifecycleInputError("template '\(name)': no file \(path(name, "txt"))")
    }
    do {
      let textTemplate = try MustacheTemplate(string: Self.textPragma + text)
      let html = try source(name, "html").map { try MustacheTemplate(string: $0).render(variables) }
      return RenderedEmail(
        subject: renderSubject(subject, variables: variables), text: textTemplate.render(variables), html: html)
    } catch let error as LifecycleInputError {
      throw error
    } catch {
      throw LifecycleInputError("template '\(name)': \(error)")
    }
  }

  public func renderSubject(_ subject: String, variables: [String: Any], compiled: MustacheTemplate? = nil) -> String {
    guard subject.contains("{{") else { return subject }
    let template = compiled ?? (try? MustacheTemplate(string: Self.textPragma + subject))
    let rendered = template?.render(variables) ?? subject
    return rendered.replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
  }

  // MARK: - Checking

  /// Problems with a template before any customer sees it: a missing file,
  /// Mustache that does not parse, or a variable nothing provides (which
  /// would render as a blank). `extra` names the occasion's own variables.
  public func problems(template name: String, subject: String, extra: [String]) -> [String] {
    var problems: [String] = []
    let known = Set(Self.accountVariables + extra)
    var sources: [(String, String)] = [("subject", subject)]
    if let text = source(name, "txt") {
      sources.append((path(name, "txt"), text))
    } else {
      problems.append("template '\(name)': no file \(path(name, "txt"))")
    }
    if let html = source(name, "html") { sources.append((path(name, "html"), html)) }
    for (origin, text) in sources {
      do {
        _ = try MustacheTemplate(string: text)
      } catch {
        problems.append("\(origin): not valid Mustache: \(error)")
        continue
      }
      for missing in Self.unknownVariables(in: text, known: known) {
        problems.append(
          "\(origin): {{\(missing)}} is not a variable (known: \(known.sorted().joined(separator: ", ")))")
      }
    }
    return problems
  }

  /// Every top-level name `text` refers to (sections included).
  public static func variableNames(in text: String) -> Set<String> {
    Set(unknownVariables(in: text, known: []).map { String($0.split(separator: ".").first ?? "") })
  }

  /// The variables `text` uses that neither `known` nor an open section provides.
  public static func unknownVariables(in text: String, known: Set<String>) -> [String] {
    var unknown: [String] = []
    var sections: [String] = []
    var rest = Substring(text)
    while let open = rest.range(of: "{{") {
      guard let close = rest.range(of: "}}", range: open.upperBound..<rest.endIndex) else { break }
      var tag = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
      rest = rest[close.upperBound...]
      if rest.hasPrefix("}") { rest = rest.dropFirst() }
      if tag.hasPrefix("{") { tag = String(tag.dropFirst()) }
      guard let sigil = tag.first else { continue }
      var name = tag
      switch sigil {
      case "!", "%", ">", "=", "<", "$": continue
      case "#", "^", "&", "/":
        name = String(tag.dropFirst()).trimmingCharacters(in: .whitespaces)
      default: break
      }
      let root = String(name.split(separator: ".").first ?? "")
      let inUsage = sections.contains("usage")
      let provided = name == "." || known.contains(root) || (inUsage && usageVariables.contains(root))
      if sigil == "/" {
        if let index = sections.lastIndex(of: name) { sections.remove(at: index) }
        continue
      }
      if !provided && !unknown.contains(name) { unknown.append(name) }
      if sigil == "#" || sigil == "^" { sections.append(name) }
    }
    return unknown
  }
}
