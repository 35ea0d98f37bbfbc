package policy

import (
	"strings"
	"testing"
)

// The vectors come from RFC 3492 section 7.1 and from well-known registered names. The encoder is
// fed the labels exactly as given (mixed case included), since case folding is ParseHost's job.
func TestPunycodeEncode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"bücher", "bcher-kva"},
		{"münchen", "mnchen-3ya"},
		{"例え", "r8jz45g"},
		{"テスト", "zckzah"},
		{"他们为什么不说中文", "ihqwcrb4cv8a8dqg056pqjye"},                                // RFC 3492 7.1 (B)
		{"3年B組金八先生", "3B-ww4c5e180e575a65lsy2b"},                                 // RFC 3492 7.1 (L)
		{"安室奈美恵-with-SUPER-MONKEYS", "-with-SUPER-MONKEYS-pc58ag80a8qai00g7n9n"}, // RFC 3492 7.1 (M)
		{"Pročprostěnemluvíčesky", "Proprostnemluvesky-uyb24dma41a"},             // RFC 3492 7.1 (E)
		{"ليهمابتكلموشعربي؟", "egbpdaj6bu4bxfgehfvwxn"},                          // RFC 3492 7.1 (A)
		{"MajiでKoiする5秒前", "MajiKoi5-783gue6qz075azm5e"},                          // RFC 3492 7.1 (P)
	}
	for _, tt := range tests {
		got, err := punycodeEncode(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("punycodeEncode(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestPunycodeEncodeHugeInputDoesNotOverflow(t *testing.T) {
	// Far beyond any label ParseHost would pass in; the encoder must refuse or succeed, not wrap.
	in := strings.Repeat("\U0010FFFF\u00e9", 5000)
	if _, err := punycodeEncode(in); err == nil {
		t.Log("encoded without overflow")
	}
}
