/// An error whose `description` is the one line the command line prints.
/// `isBadInput` chooses the exit code: 2 for input the user can fix (a bad
/// flag, file or value), 1 for a failure while doing the work.
public protocol ReportableError: Error, CustomStringConvertible, Sendable {
  var isBadInput: Bool { get }
}
