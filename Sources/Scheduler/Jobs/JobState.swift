/// Where a job is in its life, as BullMQ names it. (A paused queue is a
/// flag on the queue, not a job state.)
public enum JobState: Int, Sendable, CaseIterable, Codable, CustomStringConvertible {
  case waiting = 0
  case delayed = 1
  case active = 2
  case completed = 3
  case failed = 4

  public var description: String { name }

  public var name: String {
    switch self {
    case .waiting: return "waiting"
    case .delayed: return "delayed"
    case .active: return "active"
    case .completed: return "completed"
    case .failed: return "failed"
    }
  }

  public init?(name: String) {
    guard let state = Self.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
    self = state
  }

  public var isFinished: Bool { self == .completed || self == .failed }

  /// The condition of the `jobs_finished` partial index. SQLite uses a
  /// partial index only when the query repeats its condition word for word
  /// (`state = 4` alone does not let it use `WHERE state >= 3`), so every
  /// query on finished jobs adds this term.
  static let finishedCondition = "state >= 3"

  /// The `queues` column that counts jobs in this state.
  var countColumn: String { name }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(name)
  }

  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    guard let state = JobState(name: text) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown state"))
    }
    self = state
  }
}
