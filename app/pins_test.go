package app

import (
	"testing"

	"socketeer/policy"
)

// TestCertPinsOneDecision: the pins the window and the sockets share combine the profile's (read
// afresh, so a pin added later counts) and the organisation's, each for exactly one host.
func TestCertPinsOneDecision(t *testing.T) {
	useTempXDG(t)
	const origin = "https://device.example"
	const userPin = "93f4ff98f5e8c0c709af2543c7e10b6f7d31c54e28f737db9c3bf79ef02f91cd"
	const orgPin = "0000000000000000000000000000000000000000000000000000000000000001"
	f, err := policy.ParseEnterpriseFile("p.json", []byte(`{"certificatePins": [{"origins": ["`+origin+`"], "host": "10.0.0.5", "sha256": "`+orgPin+`"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	pins := certPins{origin: origin, ent: policy.MergeEnterprise([]policy.EnterpriseFile{f})}
	if pins.Pinned("device.example", userPin) {
		t.Fatal("pinned before any profile exists")
	}
	p, err := OpenProfile(origin, origin+"/")
	if err != nil {
		t.Fatal(err)
	}
	p.AddPin("device.example", userPin)
	if err := p.Save(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		host, sha string
		want      bool
	}{
		{"device.example", userPin, true},
		{"other.example", userPin, false},
		{"10.0.0.5", orgPin, true},
		{"10.0.0.6", orgPin, false},
		{"device.example", orgPin, false},
	} {
		if got := pins.Pinned(c.host, c.sha); got != c.want {
			t.Errorf("Pinned(%s, %.8s…) = %v, want %v", c.host, c.sha, got, c.want)
		}
	}
}
