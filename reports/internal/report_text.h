/* report_text.h - the text encoders every report writer shares (HTML/XML escaping, CSV fields,
 * UTF-8 repair, number formatting), appending to an sb_buf (base.h).
 * Thread-safety: all functions are reentrant; a buffer belongs to one thread at a time.
 *
 * Text policy: strings from the database are treated as untrusted bytes. Every encoder here
 * replaces invalid UTF-8 with U+FFFD so that JSON (jansson rejects invalid UTF-8), HTML and CSV
 * outputs are always valid UTF-8, whatever the database holds. */
#ifndef SAICBENCH_REPORT_TEXT_H
#define SAICBENCH_REPORT_TEXT_H

#include <stddef.h>

#include "base.h"

/* Appends s escaped for HTML/XML text and attribute values: & < > " ' become &amp; &lt; &gt;
 * &quot; &#39;. Invalid UTF-8 and control characters that HTML/XML forbid (C0 except TAB, LF,
 * CR; DEL; C1) become U+FFFD. s == NULL appends nothing. */
void report_html_escape(sb_buf *b, const char *s);

/* Appends s as one RFC 4180 field: quoted (with "" for ") when it contains , " CR or LF or
 * starts/ends with a space; an empty string becomes "" so that it stays distinct from NULL,
 * which (s == NULL) appends nothing (empty field). Invalid UTF-8 becomes U+FFFD. Text that a
 * spreadsheet would run as a formula (first byte = + - @ TAB or CR) is quoted with a leading
 * apostrophe: "=1+1" becomes "'=1+1" (CSV injection). */
void report_csv_field(sb_buf *b, const char *s);

/* Appends s with invalid UTF-8 sequences (bad/overlong/surrogate/out-of-range/truncated)
 * replaced by U+FFFD; everything else unchanged. s == NULL appends nothing. */
void report_utf8_repair(sb_buf *b, const char *s);

/* Shortest "%.{15,16,17}g" form of v that parses back to exactly v ("0.125", "50", "1e-05").
 * Non-finite values give "" (the reports treat them like SQL NULL). */
void report_format_double(double v, char out[32]);

/* Appends a file-name component made from s: bytes outside [A-Za-z0-9._-] become '_', a
 * leading '.' becomes '_' (no hidden files, no "." or ".."), at most max_len bytes (>= 1); an
 * empty result becomes "_". Never contains '/'. */
void report_file_component(sb_buf *b, const char *s, size_t max_len);

#endif
