package app

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxShownText is the most characters of page-supplied text Socketeer shows in its own UI (window
// titles, dialogs): the length of the longest DNS name.
const maxShownText = 253

// cleanText makes page-supplied text safe to show as plain text: control and bidirectional-override
// characters are removed (threat: spoofing the dialog or title by reordering or hiding text), and the
// length is capped. Callers still insert it as text, never as markup.
func cleanText(s string, limit int) string { return cleanRunes(s, limit, false) }

// cleanRunes is cleanText, keeping line breaks when lines says so (for messages shown as text).
func cleanRunes(s string, limit int, lines bool) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		kept := lines && r == '\n'
		if !kept && (r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) ||
			unicode.In(r, unicode.Cf)) {
			continue
		}
		if n == limit {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// windowTitle always names the site's origin after the page's own title, so a page cannot make its
// window pass for another site's or for Socketeer's own.
func windowTitle(pageTitle, origin string) string {
	site := strings.TrimPrefix(origin, "https://")
	t := cleanText(pageTitle, 80)
	if t == "" {
		return site + " — Socketeer"
	}
	return t + " — " + site
}

// errorPage is the page shown in a site window when a load cannot go on. Every value is escaped.
func errorPage(heading string, paragraphs ...string) string {
	var b strings.Builder
	b.WriteString(`<!doctype html><html><head><meta charset="utf-8"><title>`)
	b.WriteString(html.EscapeString(heading))
	b.WriteString(`</title><style>
body{font:15px/1.5 system-ui,sans-serif;max-width:46em;margin:4em auto;padding:0 1.5em;color:#222}
h1{font-size:1.4em}code{font:13px monospace;background:#f1f1f1;padding:.15em .3em;word-break:break-all}
</style></head><body><h1>`)
	b.WriteString(html.EscapeString(heading))
	b.WriteString(`</h1>`)
	for _, p := range paragraphs {
		b.WriteString("<p>")
		b.WriteString(p)
		b.WriteString("</p>")
	}
	b.WriteString(`</body></html>`)
	return b.String()
}

// tlsErrorPage explains a certificate failure and shows the fingerprint a user compares with the
// device's own before pinning it.
func tlsErrorPage(host, origin, sha string) string {
	h := html.EscapeString(host)
	return errorPage("This site's certificate is not trusted",
		"Socketeer could not verify the certificate of <b>"+h+"</b>, so the page was not loaded.",
		"Intranet devices often use a self-signed certificate. If this is your device, compare this "+
			"SHA-256 fingerprint with the one the device shows:<br><code>"+html.EscapeString(displayFingerprint(sha))+"</code>",
		"To trust exactly this certificate for exactly this host, answer the prompt Socketeer shows, or run:<br><code>socketeer trust add "+
			html.EscapeString(origin)+" "+html.EscapeString(sha)+"</code>",
	)
}
