package app

import "errors"

// claimProfile makes this process the one that shows p. When another process already shows it, that
// window is brought to the front instead, and errAlreadyOpen returned.
func claimProfile(p *Profile) (*instance, error) {
	inst, err := claimInstance(p.ConfigDir())
	if errors.Is(err, errAlreadyOpen) {
		alog.Info("the profile is already open; its window was brought to the front", "profile", p.ID())
	}
	return inst, err
}

// showProfile opens p's window at target, or brings the window to the front if p is already open.
func showProfile(p *Profile, target siteURL) error {
	inst, err := claimProfile(p)
	if errors.Is(err, errAlreadyOpen) {
		return nil
	}
	if err != nil {
		return err
	}
	defer inst.Close()
	return runSite(inst, p, target)
}
