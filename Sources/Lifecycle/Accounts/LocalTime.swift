import Foundation
import Synchronization

/// Wall-clock arithmetic in an IANA zone with the zone's own offsets: the
/// few operations a tick needs per step, without Calendar's searches
/// (`date(bySettingHour:)` cost more than the rest of a tick together).
enum LocalTime {
  private static let zones = Mutex<[String: TimeZone]>([:])

  static func zone(_ identifier: String) -> TimeZone {
    if let known = zones.withLock({ $0[identifier] }) { return known }
    let zone = TimeZone(identifier: identifier) ?? .gmt
    zones.withLock { $0[identifier] = zone }
    return zone
  }

  static func offset(_ seconds: Double, _ zone: TimeZone) -> Double {
    Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: seconds)))
  }

  /// The local date of an instant, as days since 1970-01-01.
  static func day(of date: Date, in zone: TimeZone) -> Int {
    let seconds = date.timeIntervalSince1970
    return Int(((seconds + offset(seconds, zone)) / 86_400).rounded(.down))
  }

  /// The local hour (0–23) of an instant.
  static func hour(of date: Date, in zone: TimeZone) -> Int {
    let seconds = date.timeIntervalSince1970
    let hours = Int(((seconds + offset(seconds, zone)) / 3_600).rounded(.down))
    return ((hours % 24) + 24) % 24
  }

  /// `hour`:00 on local day `day`. A time that happens twice (clocks
  /// back) is its first; one that never happens (clocks forward) is the
  /// end of the gap, as the Scheduler's cron does.
  static func instant(day: Int, hour: Int, in zone: TimeZone) -> Date {
    let wall = Double(day) * 86_400 + Double(hour) * 3_600
    let candidates = [wall - offset(wall - 86_400, zone), wall - offset(wall + 86_400, zone)]
    let exact = candidates.filter { $0 + offset($0, zone) == wall }
    if let first = exact.min() { return Date(timeIntervalSince1970: first) }
    // In the gap: the instant the clocks jump, which reads as the gap's end.
    let before = candidates.min() ?? wall
    var low = before - 7_200
    var high = before + 7_200
    while high - low > 1 {
      let middle = ((low + high) / 2).rounded(.down)
      if middle + offset(middle, zone) < wall { low = middle } else { high = middle }
    }
    return Date(timeIntervalSince1970: high)
  }
}
