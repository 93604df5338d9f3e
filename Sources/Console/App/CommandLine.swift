import Scheduler

/// The `:` command line: commands with completion (Tab) and history (↑/↓).
public struct ConsoleCommandLine: Sendable, Equatable {
  public var text = ""
  var historyIndex: Int? = nil

  /// What `:` understands, with the help the completion shows.
  public static let commands: [(name: String, help: String)] = [
    ("q", "quit"), ("quit", "quit"), ("help", "all keys of this pane"),
    ("jobs", "jobs STATE: the Jobs pane on waiting, delayed, active, completed or failed"),
    ("queue", "queue NAME: the Jobs pane on that queue"),
    ("pane", "pane NAME|N: switch pane"),
  ]
}

extension ConsoleState {
  /// Candidates for the word being typed.
  func completions(for text: String) -> [String] {
    let words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
    let current = words.last ?? ""
    let options: [String]
    if words.count <= 1 {
      options = ConsoleCommandLine.commands.map(\.name)
    } else {
      switch words[0] {
      case "jobs": options = JobState.allCases.map(\.name)
      case "queue": options = (snapshot?.queues ?? []).map(\.name)
      case "pane": options = PaneID.allCases.map { $0.title.lowercased() }
      default: options = []
      }
    }
    return options.filter { $0.hasPrefix(current) }
  }

  /// Tab: completes the word as far as it is unambiguous; lists the rest.
  mutating func complete() {
    guard var line = commandLine else { return }
    let candidates = completions(for: line.text)
    guard let first = candidates.first else {
      message = "no completion"
      return
    }
    var common = first
    for candidate in candidates.dropFirst() {
      while !candidate.hasPrefix(common) { common.removeLast() }
    }
    var words = line.text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
    words[words.count - 1] = common
    line.text = words.joined(separator: " ") + (candidates.count == 1 ? " " : "")
    commandLine = line
    message = candidates.count > 1 ? candidates.joined(separator: "  ") : nil
  }

  mutating func recall(older: Bool) {
    guard var line = commandLine, !commandHistory.isEmpty else { return }
    var index = line.historyIndex ?? commandHistory.count
    index = older ? max(0, index - 1) : min(commandHistory.count, index + 1)
    line.historyIndex = index
    line.text = index < commandHistory.count ? commandHistory[index] : ""
    commandLine = line
  }

  /// Enter: runs the command line.
  mutating func execute(_ text: String) -> [Effect] {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if !trimmed.isEmpty && commandHistory.last != trimmed { commandHistory.append(trimmed) }
    let words = trimmed.split(separator: " ").map(String.init)
    guard let command = words.first else { return [] }
    let argument = words.dropFirst().joined(separator: " ")
    let before = request
    switch command {
    case "q", "quit":
      return [.quit]
    case "help":
      overlay = .help
    case "jobs":
      guard let state = JobState(name: argument.isEmpty ? "waiting" : argument) else {
        message = "unknown state '\(argument)' (waiting, delayed, active, completed, failed)"
        return []
      }
      pane = .jobs
      stateTab = state
      focus = .jobs
      selectedJob = nil
    case "queue":
      guard let queue = snapshot?.queues.first(where: { $0.name == argument }) else {
        message = "no queue '\(argument)'"
        return []
      }
      pane = .jobs
      selectedQueue = queue.name
      selectedJob = nil
    case "pane":
      if let number = Int(argument), let target = PaneID(rawValue: number) {
        pane = target
      } else if let target = PaneID.allCases.first(where: { $0.title.lowercased() == argument.lowercased() }) {
        pane = target
      } else {
        let names = PaneID.allCases.map { $0.title.lowercased() }.joined(separator: ", ")
        message = "no pane '\(argument)' (panes: \(names))"
        return []
      }
    default:
      let names = ConsoleCommandLine.commands.map(\.name).joined(separator: ", ")
      message = "unknown command '\(command)' (commands: \(names))"
      return []
    }
    return request == before ? [] : [.load(request)]
  }
}
