package policy

import "testing"

func TestEnterpriseForSite(t *testing.T) {
	f, err := ParseEnterpriseFile("p.json", []byte(`{
	  "blockOrigins": ["https://bad.corp.example"],
	  "allowDestinations": [{"hosts": ["*.corp.example"], "ports": ["22"]}, {"origins": ["https://other.example"], "hosts": ["x.example"]}],
	  "blockDestinations": [{"cidrs": ["10.66.0.0/16"]}],
	  "preGrants": [{"origins": ["https://print.corp.example"], "hosts": ["printer.corp.example"], "ports": ["9100"]}]
	}`))
	if err != nil {
		t.Fatal(err)
	}
	e := MergeEnterprise([]EnterpriseFile{f})
	tests := []struct {
		origin                    string
		blocked                   bool
		pre, allowed, blockedDest int
	}{
		{"https://print.corp.example", false, 1, 1, 1},
		{"https://other.example", false, 0, 2, 1},
		{"https://bad.corp.example", true, 0, 1, 1},
		{"not an origin", true, 0, 0, 0},
	}
	for _, tt := range tests {
		sp := e.ForSite(tt.origin)
		if sp.OriginBlocked != tt.blocked || len(sp.PreGrants) != tt.pre || len(sp.Allowed) != tt.allowed || len(sp.Blocked) != tt.blockedDest || sp.Disabled {
			t.Errorf("%s: %+v", tt.origin, sp)
		}
	}
	if got := e.ForSite("https://print.corp.example").PreGrants[0]; got.Hosts[0] != "printer.corp.example" || got.Ports[0] != "9100" {
		t.Errorf("pre-grant as written: %+v", got)
	}
	if !(Enterprise{}).ForSite("https://a.example").IsZero() {
		t.Error("no policy says something about a site")
	}
}
