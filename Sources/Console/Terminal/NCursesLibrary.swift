import CNCurses

/// The ncursesw this binary is linked against.
public enum NCursesLibrary {
  /// For example `ncurses 6.4.20230225`.
  public static var version: String { String(cString: curses_version()) }
}
