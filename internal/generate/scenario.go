package generate

import (
	"slices"
	"sort"
	"time"
)

// group is a scripted sequence of events written into one log file of one account and region.
type group struct {
	acct   *account
	region string
	at     int64 // time of the first event
	events []evSpec
	// pair, if set, is a copy of the group recorded in another account (cross-account calls are
	// logged in both); it gets the same times.
	pair *group
}

func (w *world) actorOf(a *account, name string, m mode) *actor {
	for _, ac := range a.actors {
		if ac.p.name == name && ac.mode == m {
			return ac
		}
	}
	return nil
}

// dayAt is the time days before End at the given UTC hour and minute (clamped into the window).
func (w *world) dayAt(days int, hour, minute int) int64 {
	t := time.Unix(w.end, 0).UTC().AddDate(0, 0, -days)
	t = time.Date(t.Year(), t.Month(), t.Day(), hour, minute, 0, 0, time.UTC)
	return min(max(t.Unix(), w.start+900), w.end-3600)
}

// scenarios builds the scripted groups, most important first.
func (w *world) scenarios() []*group {
	if len(w.accounts) == 0 {
		return nil
	}
	main := w.accounts[0]
	home := w.home
	var gs []*group
	carol := w.actorOf(main, "carol", mKey)
	alice := w.actorOf(main, "alice", mKey)
	aliceConsole := w.actorOf(main, "alice", mConsole)
	bobConsole := w.actorOf(main, "bob", mConsole)
	root := main.rootActor
	if carol == nil || root == nil {
		return nil
	}
	days := w.opt.Days
	within := func(d int) bool { return d < days }

	// 1. Privilege escalation by carol with a stolen key: new IP, different client.
	{
		d := min(3, days-1)
		ip, ua := "185.220.101."+"47", uaAttacker
		policy := "arn:aws:iam::" + main.id + ":policy/carol-dev-policy"
		admin := main.roles["Admin"].name
		steps := []evSpec{
			{act: aGetCallerIdentity},
			{act: aIAMListAttachedUserPolicies, targetUser: "carol"},
			{act: aIAMCreateUser, targetUser: "backup-admin", errCode: "AccessDenied"},
			{act: aIAMCreatePolicyVersion, policyARN: policy},
			{act: aIAMAttachUserPolicy, targetUser: "carol", policyARN: "arn:aws:iam::aws:policy/AdministratorAccess"},
			{act: aIAMCreateAccessKey, targetUser: "ci-deploy"},
			{act: aIAMCreateLoginProfile, targetUser: "old-admin"},
			{act: aIAMUpdateAssumeRolePolicy, targetUser: admin},
			{act: aLambdaCreateFunction, targetUser: admin},
			{act: aEC2RunInstances, targetUser: admin},
		}
		g := &group{acct: main, region: home, at: w.dayAt(d, 2, 13)}
		for i, s := range steps {
			s.ac, s.ip, s.ua = carol, ip, ua
			s.sec = int64(i) * int64(15+i*7)
			if s.errCode == "" {
				s.errCode = "-"
			}
			g.events = append(g.events, s)
		}
		gs = append(gs, g)
	}

	// 2. The root user: console sign-ins (one failed) and a few console actions.
	for _, d := range []int{40, 26, 12, 5, 2} {
		if !within(d) {
			continue
		}
		g := &group{acct: main, region: home, at: w.dayAt(d, 9+d%5, 17+d)}
		if d == 5 {
			g.events = append(g.events, evSpec{ac: root, act: aConsoleLogin, loginFail: true})
		}
		g.events = append(g.events,
			evSpec{ac: root, act: aConsoleLogin, errCode: "-"},
			evSpec{ac: root, act: aIAMGetAccountSummary, errCode: "-"},
			evSpec{ac: root, act: aConsoleGetContactInformation, errCode: "-"},
			evSpec{ac: root, act: aIAMListUsers, errCode: "-"})
		for i := range g.events {
			g.events[i].sec = int64(i * 40)
		}
		gs = append(gs, g)
	}

	// 3. alice switches into Admin of the other accounts (logged in both accounts).
	for _, a := range w.accounts[1:] {
		for _, d := range []int{10, 1} {
			if !within(d) || alice == nil {
				continue
			}
			at := w.dayAt(d, 14, 7+a.idx)
			src := &group{acct: main, region: home, at: at}
			shared := hashOf(w.seed, hashString(a.id), uint64(d)) | 1
			src.events = []evSpec{{ac: alice, act: aAssumeRole, target: a.admin, shared: shared, errCode: "-"}}
			dst := &group{acct: a, region: home, at: at}
			dst.events = []evSpec{{ac: alice, act: aAssumeRole, target: a.admin, shared: shared, errCode: "-", recipient: a}}
			src.pair = dst
			gs = append(gs, src)
			work := &group{acct: a, region: home, at: at + 60}
			for i, act := range []actID{aEC2DescribeInstances, aS3ListBuckets, aIAMListRoles} {
				work.events = append(work.events, evSpec{ac: a.admin, act: act, sec: int64(i * 25), errCode: "-"})
			}
			gs = append(gs, work)
		}
	}

	// 4. Console sign-ins that failed: a burst of six from one address, guessing names that do
	// not exist (a failed-sign-in burst for detection), and bob mistyping.
	if aliceConsole != nil && bobConsole != nil && within(6) {
		g := &group{acct: main, region: home, at: w.dayAt(6, 3, 41)}
		for i := 0; i < 6; i++ {
			g.events = append(g.events, evSpec{ac: aliceConsole, act: aConsoleLogin, loginFail: true, noSuchUser: true,
				ip: "45.134.26.9", ua: uaFirefox, sec: int64(i * 9)})
		}
		gs = append(gs, g)
		g = &group{acct: main, region: home, at: w.dayAt(1, 8, 55)}
		g.events = []evSpec{{ac: bobConsole, act: aConsoleLogin, loginFail: true}, {ac: bobConsole, act: aConsoleLogin, loginFail: true, sec: 20},
			{ac: bobConsole, act: aConsoleLogin, errCode: "-", sec: 45}}
		gs = append(gs, g)
	}
	return gs
}

// script places the scripted groups into log files, keeping the total number of events exact.
func (w *world) script(files []*logFile) {
	byStream := map[[2]string][]*logFile{}
	for _, f := range files {
		k := [2]string{f.acct.id, f.region}
		byStream[k] = append(byStream[k], f)
	}
	// place finds the file of the stream delivered first after at (or the last one, moving at
	// back into its window); it returns the file and the possibly adjusted time.
	place := func(a *account, region string, at int64, span int64) (*logFile, int64) {
		fs := byStream[[2]string{a.id, region}]
		if len(fs) == 0 {
			return nil, at
		}
		i := sort.Search(len(fs), func(i int) bool { return fs[i].deliver >= at+span+60 })
		if i == len(fs) {
			f := fs[len(fs)-1]
			return f, max(f.winStart, f.winEnd-span)
		}
		return fs[i], at
	}
	budget := w.opt.Events / 4
	used := 0
	for _, g := range w.scenarios() {
		n := len(g.events)
		if g.pair != nil {
			n += len(g.pair.events)
		}
		if used+n > budget {
			continue
		}
		span := g.events[len(g.events)-1].sec
		f, at := place(g.acct, g.region, g.at, span)
		if f == nil {
			continue
		}
		var pf *logFile
		if g.pair != nil {
			pf, at = place(g.pair.acct, g.pair.region, at, span)
			if pf == nil {
				continue
			}
			f, at = place(g.acct, g.region, at, span)
		}
		used += n
		for _, e := range g.events {
			e.sec += at
			f.scripted = append(f.scripted, e)
		}
		if pf != nil {
			for _, e := range g.pair.events {
				e.sec += at
				pf.scripted = append(pf.scripted, e)
			}
		}
	}
	// Files must hold at least their scripted events: take the difference from other files.
	var need int
	for _, f := range files {
		slices.SortStableFunc(f.scripted, func(a, b evSpec) int { return int(a.sec - b.sec) })
		if d := len(f.scripted) - f.n; d > 0 {
			f.n += d
			need += d
		}
	}
	for i := 0; need > 0; i = (i + 1) % len(files) {
		if f := files[i]; f.n > len(f.scripted) && f.n > 1 {
			f.n--
			need--
		}
	}
}

// escalation describes the written escalation group, if any.
func (w *world) escalation(files []*logFile) Escalation {
	var esc Escalation
	for _, f := range files {
		for _, e := range f.scripted {
			if e.ac.p.name != "carol" || e.ua != uaAttacker {
				continue
			}
			t := time.Unix(e.sec, 0).UTC()
			if esc.User == "" {
				esc.User, esc.Account, esc.Start = e.ac.p.arn, f.acct.id, t
			}
			esc.End = t
			s := actions[e.act].source + ":" + actions[e.act].name
			if e.errCode != "-" && e.errCode != "" {
				s += "!"
			}
			esc.Events = append(esc.Events, s)
		}
	}
	return esc
}
