/// An inhibition rule (`[[alerting.inhibit_rules]]`), as in Alertmanager:
/// while an open alert matches `source`, the alerts matching `target` that
/// share its values of the `equal` labels are not notified (a critical
/// "database down" mutes the warnings it causes). They are still recorded.
public struct InhibitRule: Sendable, Equatable {
  public var source: [LabelMatcher]
  public var target: [LabelMatcher]
  public var equal: [String]

  public init(source: [LabelMatcher], target: [LabelMatcher], equal: [String] = []) {
    self.source = source
    self.target = target
    self.equal = equal
  }

  /// The ids of `alerts` some other open alert inhibits under `rules`.
  public static func inhibited(_ alerts: [Alert], rules: [InhibitRule]) -> Set<Int64> {
    guard !rules.isEmpty else { return [] }
    let labelled = alerts.filter { $0.status != .resolved }.map { alert -> (Int64, [String: String]) in
      var labels = alert.labels
      labels["severity"] = alert.severity.rawValue
      return (alert.id, labels)
    }
    var muted = Set<Int64>()
    for rule in rules {
      let sources = labelled.filter { _, labels in rule.source.allSatisfy { $0.matches(labels) } }
      guard !sources.isEmpty else { continue }
      for (id, labels) in labelled where rule.target.allSatisfy({ $0.matches(labels) }) {
        let covered = sources.contains { source in
          source.0 != id && rule.equal.allSatisfy { (source.1[$0] ?? "") == (labels[$0] ?? "") }
        }
        if covered { muted.insert(id) }
      }
    }
    return muted
  }
}
