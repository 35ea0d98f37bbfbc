package policy

// SitePolicy is what the organisation's policy says about one site, as written, for the launcher's
// permissions page: the user sees which rules are managed and cannot change them there.
type SitePolicy struct {
	// Disabled: the policy turns the socket API off for every site (or a policy file is invalid).
	Disabled bool
	// OriginBlocked: BlockOrigins, or an AllowOrigins list that does not name the site, keeps it out.
	OriginBlocked bool
	// PreGrants connect without a prompt; Allowed limit where the site may connect (with the user's
	// consent); Blocked are refused whatever the user says.
	PreGrants []DestRule
	Allowed   []DestRule
	Blocked   []DestRule
}

// IsZero reports whether the policy says nothing particular about the site.
func (s SitePolicy) IsZero() bool {
	return !s.Disabled && !s.OriginBlocked && len(s.PreGrants)+len(s.Allowed)+len(s.Blocked) == 0
}

// ForSite returns the rules of e that apply to origin. A rule without origins applies to every site.
func (e Enterprise) ForSite(origin string) SitePolicy {
	sp := SitePolicy{Disabled: e.Disabled()}
	o, err := ParseOrigin(origin)
	if err != nil {
		sp.OriginBlocked = true
		return sp
	}
	sp.OriginBlocked = !e.originAllowed(o)
	pick := func(rules []destRule) []DestRule {
		var out []DestRule
		for _, r := range rules {
			if r.appliesTo(o) {
				out = append(out, copyRules([]DestRule{r.src})...)
			}
		}
		return out
	}
	sp.PreGrants = pick(e.preGrants)
	sp.Allowed = pick(e.allowDests)
	sp.Blocked = pick(e.blockDests)
	return sp
}

// appliesTo reports whether the rule's origins cover o (no origins: every site).
func (r destRule) appliesTo(o Origin) bool {
	return len(r.origins) == 0 || anyOrigin(r.origins, o)
}

// anyOrigin reports whether any of the patterns matches o.
func anyOrigin(ps []originPattern, o Origin) bool {
	for _, p := range ps {
		if p.match(o) {
			return true
		}
	}
	return false
}
