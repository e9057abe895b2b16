# gen_html.awk: deterministic large HTML pages for the w3m test.
#
#   awk -v page=NAME [-v scale=S] -f gen_html.awk > NAME.html
#
# NAME is one of
#   tables  big tables nested three deep, colspan/rowspan, alignments, widths
#   lists   long nested ul/ol/dl lists, thousands of links, named and numeric entities
#   pre     pre blocks (tabs, long lines, markup inside), forms of every kind,
#           headings, blockquotes, definition lists
#   mixed   all of the above interleaved in one page
# scale (default 1) multiplies the amount of content (a page is about 1 MB at 1).
# POSIX awk only (mawk, gawk, busybox): the pseudo-random sequence is a
# Park-Miller generator whose products stay below 2^53, so it is exact in
# doubles and every awk prints the same bytes.

BEGIN {
  if (scale == "") scale = 1
  if (page == "") page = "mixed"
  seed = 20250101 + 7919 * index(" tables lists pre mixed", " " page)
  nw = split("alpha beta gamma delta epsilon zeta theta lambda sigma omega " \
             "collector span heap arena sweep mark pointer object finalizer root " \
             "stack thread barrier pacer goal cache central page bitmap size-class " \
             "the of and to in is was for on with as by at from it an be this which " \
             "conservative generational incremental concurrent allocation reclamation " \
             "fragmentation compaction interior displacement descriptor", W)
  ne = split("&amp; &lt; &gt; &quot; &#39; &eacute; &uuml; &ntilde; &copy; &reg; " \
             "&mdash; &ndash; &hellip; &laquo; &raquo; &para; &sect; &deg; &plusmn; &times; " \
             "&#8364; &#x263A; &#169; &#x2192; &#955; &nbsp; &frac12; &szlig; &aring; &oslash;", E)
  head(page)
  if (page == "tables") tables(int(150 * scale), 1)
  else if (page == "lists") lists(int(40 * scale), 1)
  else if (page == "pre") pre_forms(int(200 * scale), 1)
  else if (page == "mixed") {
    n = int(12 * scale); if (n < 1) n = 1
    for (k = 1; k <= n; k++) {
      tables(8, k); lists(2, k); pre_forms(6, k)
    }
  } else {
    print "gen_html.awk: unknown page '" page "'" > "/dev/stderr"
    exit 2
  }
  print "<hr><address>end of page " page "</address>"
  print "</body></html>"
}

function rnd(n) { seed = (seed * 16807) % 2147483647; return seed % n }
function word() { return W[1 + rnd(nw)] }
function ent() { return E[1 + rnd(ne)] }
function url(tag) { return "http://example.org/" tag "/" rnd(100000) ".html?q=" word() "&amp;n=" rnd(1000) }
function words(n,   s, i, r) {
  s = word()
  for (i = 2; i <= n; i++) {
    r = rnd(40)
    if (r == 0) s = s " " ent()
    else if (r == 1) s = s " <b>" word() "</b>"
    else if (r == 2) s = s " <i>" word() " " word() "</i>"
    else if (r == 3) s = s " <code>" word() "()</code>"
    else if (r == 4) s = s " <a href=\"" url("w") "\">" word() "</a>"
    else if (r == 5) s = s ","
    else s = s " " word()
  }
  return s
}
function sentence(n) { return words(n) "." }

function head(p) {
  print "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\">"
  print "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\">"
  print "<title>spangc w3m test page: " p "</title></head><body>"
  print "<h1 align=center>Generated page &ldquo;" p "&rdquo; (scale " scale ")</h1>"
  print "<p>" sentence(60) "</p>"
}

# rows of an outer table; every 7th row holds a nested table, every 29th
# nested table holds a third level; colspan and rowspan here and there.
function tables(nt, part,   t, r, c, rows, cols) {
  for (t = 1; t <= nt; t++) {
    rows = 20 + rnd(30); cols = 3 + rnd(4)
    print "<h2>Table " part "." t "</h2>"
    print "<table border=" (t % 3) " cellpadding=" rnd(3) " cellspacing=" rnd(2) (t % 4 == 0 ? " width=\"90%\"" : "") ">"
    print "<caption>" words(6) "</caption>"
    printf "<tr>"
    for (c = 1; c <= cols; c++) printf "<th>%s %d</th>", word(), c
    print "</tr>"
    for (r = 1; r <= rows; r++) {
      printf "<tr%s>", (r % 5 == 0 ? " align=right" : "")
      for (c = 1; c <= cols; c++) {
        if (r % 11 == 0 && c == 1) { printf "<td colspan=2 bgcolor=\"#eeeeee\">%s</td>", words(5); c++; continue }
        if (r % 7 == 0 && c == 2) { printf "<td>"; inner(2 + rnd(4), 2 + rnd(3), r % 29 == 0); printf "</td>"; continue }
        if (c == cols) printf "<td align=right>%d.%02d</td>", rnd(1000000), rnd(100)
        else if (c == 1) printf "<td><a href=\"%s\">%s-%d-%d</a></td>", url("t"), word(), t, r
        else printf "<td%s>%s</td>", (rnd(9) == 0 ? " nowrap" : ""), words(1 + rnd(8))
      }
      print "</tr>"
    }
    print "</table>"
    print "<p>" sentence(30 + rnd(40)) "</p>"
  }
}
function inner(rows, cols, deeper,   r, c) {
  printf "<table border=1><tr><td rowspan=%d valign=top>%s</td>", rows, word()
  for (r = 1; r <= rows; r++) {
    if (r > 1) printf "<tr>"
    for (c = 2; c <= cols; c++) {
      if (deeper && r == 1 && c == 2) { printf "<td><table border=1><tr><td>%s</td><td>%s</td></tr><tr><td colspan=2>%s</td></tr></table></td>", word(), ent(), words(3) }
      else printf "<td>%s</td>", words(1 + rnd(3))
    }
    printf "</tr>"
  }
  printf "</table>"
}

# sections of nested lists and definition lists, with many links
function lists(ns, part,   s, i, j, k, n1, n2, n3) {
  for (s = 1; s <= ns; s++) {
    print "<h2>List section " part "." s "</h2>"
    n1 = 30 + rnd(30)
    print (s % 2 ? "<ul>" : "<ol type=\"" substr("1aAiI", 1 + rnd(5), 1) "\">")
    for (i = 1; i <= n1; i++) {
      print "<li><a href=\"" url("l") "\">" word() " " i "</a> " words(4 + rnd(20))
      if (i % 3 == 0) {
        n2 = 2 + rnd(6)
        print "<ol>"
        for (j = 1; j <= n2; j++) {
          print "<li>" words(3 + rnd(12)) " <a href=\"" url("m") "\">more " ent() "</a>"
          if (j % 2 == 0) {
            n3 = 1 + rnd(4)
            print "<ul type=square>"
            for (k = 1; k <= n3; k++) print "<li>" ent() " " words(2 + rnd(10)) "</li>"
            print "</ul>"
          }
          print "</li>"
        }
        print "</ol>"
      }
      print "</li>"
    }
    print (s % 2 ? "</ul>" : "</ol>")
    print "<dl>"
    n1 = 10 + rnd(20)
    for (i = 1; i <= n1; i++) print "<dt><b>" word() "-" i "</b></dt><dd>" words(10 + rnd(40)) "</dd>"
    print "</dl>"
    print "<p>" sentence(80 + rnd(80)) "</p>"
  }
}

# pre blocks, forms, headings, quotes
function pre_forms(nb, part,   b, i, n, h, line, opt) {
  for (b = 1; b <= nb; b++) {
    h = 2 + (b % 5)
    print "<h" h ">Block " part "." b ": " words(3) "</h" h ">"
    print "<pre>"
    n = 15 + rnd(40)
    for (i = 1; i <= n; i++) {
      line = sprintf("%4d\t", i)
      if (i % 9 == 0) line = line "<b>" word() "</b>\t&lt;" word() "&gt; &amp;&amp; " ent()
      else if (i % 13 == 0) line = line words(40)   # longer than the screen
      else line = line sprintf("%-12s = %8d; /* %s */", word(), rnd(100000000), word())
      print line
    }
    print "</pre>"
    print "<blockquote><p>" sentence(20 + rnd(30)) "</p><blockquote>" sentence(10) "</blockquote></blockquote>"
    print "<form action=\"" url("f") "\" method=" (b % 2 ? "post" : "get") ">"
    print "Name: <input type=text name=name" b " value=\"" word() " " word() "\" size=" (10 + rnd(30)) "><br>"
    print "Password: <input type=password name=pw" b " value=\"secret\"> "
    print "<input type=checkbox name=c" b " value=1" (rnd(2) ? " checked" : "") "> " word()
    print "<input type=radio name=r" b " value=a checked> a <input type=radio name=r" b " value=b> b<br>"
    printf "<select name=s%d>", b
    n = 3 + rnd(10)
    for (i = 1; i <= n; i++) {
      opt = word()
      printf "<option value=\"%s%d\"%s>%s %s</option>", opt, i, (i == 2 ? " selected" : ""), opt, ent()
    }
    print "</select>"
    print "<textarea name=t" b " rows=" (2 + rnd(5)) " cols=" (20 + rnd(60)) ">" words(30) "</textarea>"
    print "<input type=hidden name=h" b " value=\"" rnd(999) "\">"
    print "<input type=submit value=\"Send " b "\"> <input type=reset>"
    print "</form>"
    print "<center>" words(12) "</center><div align=right>" words(8) "</div>"
    print "<p>" sentence(40 + rnd(60)) "<br>" sentence(20) "</p><hr width=\"" (20 + rnd(80)) "%\">"
  }
}
