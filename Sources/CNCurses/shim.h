#ifndef CNCURSES_SHIM_H
#define CNCURSES_SHIM_H

// Wide-character ncurses: this must come before the header so that
// cchar_t, setcchar and the *_wch functions are declared.
#define _XOPEN_SOURCE_EXTENDED 1
#include <langinfo.h>
#include <locale.h>
#include <string.h>
#include <ncursesw/curses.h>

// Macros and C globals that Swift cannot import, one wrapper each, named
// after what they wrap.
static inline WINDOW *cn_stdscr(void) { return stdscr; }
static inline int cn_lines(void) { return LINES; }
static inline int cn_cols(void) { return COLS; }
static inline int cn_colors(void) { return COLORS; }
static inline int cn_color_pairs(void) { return COLOR_PAIRS; }
static inline void cn_getmaxyx(WINDOW *win, int *rows, int *cols) {
  int y, x;
  getmaxyx(win, y, x);
  *rows = y;
  *cols = x;
}
static inline attr_t cn_a_normal(void) { return A_NORMAL; }
static inline attr_t cn_a_bold(void) { return A_BOLD; }
static inline attr_t cn_a_dim(void) { return A_DIM; }
static inline attr_t cn_a_reverse(void) { return A_REVERSE; }
static inline attr_t cn_a_underline(void) { return A_UNDERLINE; }
static inline attr_t cn_color_pair(int pair) { return COLOR_PAIR(pair); }
static inline int cn_key_resize(void) { return KEY_RESIZE; }
static inline int cn_key_mouse(void) { return KEY_MOUSE; }
static inline int cn_err(void) { return ERR; }
static inline int cn_key_code_yes(void) { return KEY_CODE_YES; }
static inline int cn_attrset(attr_t attrs) { return attrset(attrs); }
static inline int cn_mvaddstr(int y, int x, const char *text) { return mvaddstr(y, x, text); }
static inline void cn_timeout(int milliseconds) { timeout(milliseconds); }
static inline int cn_get_wch(wint_t *character) { return get_wch(character); }
static inline int cn_erase(void) { return erase(); }
static inline int cn_keypad(bool enabled) { return keypad(stdscr, enabled); }
static inline mmask_t cn_button1_clicked(void) { return BUTTON1_CLICKED; }
static inline mmask_t cn_button4_pressed(void) { return BUTTON4_PRESSED; }
static inline mmask_t cn_button5_pressed(void) { return BUTTON5_PRESSED; }
static inline int cn_codeset_is_utf8(void) {
  const char *codeset = nl_langinfo(CODESET);
  return codeset && (strcmp(codeset, "UTF-8") == 0 || strcmp(codeset, "utf8") == 0);
}
static inline int cn_ok(void) { return OK; }

#endif
