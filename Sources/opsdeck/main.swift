import ArgumentParser
import Foundation
import Logging
import Storage

// Only the executable configures logging; the engines take a Logger.
LogOutput.bootstrap()

/// Prints the one line an error deserves and returns the exit code:
/// 0 for --help and --version, 2 for bad input, 1 for a failure.
func report(_ error: any Error) -> Int32 {
  if let error = error as? any ReportableError {
    printError(error.description)
    return error.isBadInput ? 2 : 1
  }
  // A command that chose its exit code has said what it had to.
  if let exit = error as? ExitCode { return exit.rawValue }
  let code = OpsDeckCommand.exitCode(for: error)
  if code == .success {
    print(OpsDeckCommand.fullMessage(for: error))
    return 0
  }
  let message = OpsDeckCommand.message(for: error)
  if code == .validationFailure {
    printError(message + " (see 'opsdeck --help')")
    return 2
  }
  printError(message.isEmpty ? "\(error)" : message)
  return code.rawValue == 0 ? 1 : code.rawValue
}

func printError(_ message: String) {
  let line = TerminalText.sanitize(message.split(whereSeparator: \.isNewline).joined(separator: " "))
  FileHandle.standardError.write(Data("opsdeck: \(line)\n".utf8))
}

do {
  var command = try OpsDeckCommand.parseAsRoot()
  try command.run()
  exit(0)
} catch {
  exit(report(error))
}
