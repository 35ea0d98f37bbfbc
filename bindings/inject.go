package bindings

import (
	_ "embed"
	"encoding/json"
	"strings"
)

//go:embed js/api.js
var apiJS string

//go:embed js/relay.js
var relayJS string

// RelayWorld is the name of the isolated script world the relay runs in.
const RelayWorld = "socketeer-relay"

// Scripts are the two user scripts the app injects at document start into frames of the profile's
// origin: PageAPI into the page's world, Relay into the isolated RelayWorld.
type Scripts struct {
	PageAPI string
	Relay   string
}

// ScriptsFor renders the scripts for one origin and one bridge. Values are inserted as JSON literals,
// so no origin or URL can break out of the script text.
func ScriptsFor(origin string, srv *Server) Scripts {
	originJSON, _ := json.Marshal(origin)
	cfg, _ := json.Marshal(struct {
		Origin string `json:"origin"`
		URL    string `json:"url"`
	}{origin, srv.URL()})
	return Scripts{
		PageAPI: strings.Replace(apiJS, "/*ORIGIN*/ null", string(originJSON), 1),
		Relay:   strings.Replace(relayJS, "/*CONFIG*/ null", string(cfg), 1),
	}
}
