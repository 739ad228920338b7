// Command psa-check evaluates Pods with the upstream Pod Security Admission library
// (k8s.io/pod-security-admission/policy), reporting which PSA check forbids each Pod.
//
// Input: JSON Lines on stdin, one request per line:
//
//	{"id": "...", "level": "baseline"|"restricted"|"privileged", "version": "v1.NN"|"latest", "pod": {<Pod manifest>}}
//
// Output: one JSON line per input line, in order:
//
//	{"id": "...", "allowed": bool, "reasons": [{"check": "<check ID>", "reason": "...", "detail": "..."}],
//	 "evaluatedVersion": "v1.NN", "checks": ["<check IDs evaluated>"], "warnings": ["..."]}
//
// A line that cannot be handled produces {"id": "...", "error": "..."} and processing continues.
//
// The failing checks are attributed by selecting, for every check in policy.DefaultChecks(), the
// versioned CheckPod that applies to the requested level and version, honouring OverrideCheckIDs the
// way the library's evaluator does. Every result is cross-checked against the library's own
// Evaluator.EvaluatePod; a mismatch is reported as an error rather than returned as a verdict.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	sigsjson "sigs.k8s.io/json"
)

type request struct {
	ID      string          `json:"id"`
	Level   string          `json:"level"`
	Version string          `json:"version"`
	Pod     json.RawMessage `json:"pod"`
}

type reason struct {
	Check  string `json:"check"`
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

type response struct {
	ID               string   `json:"id"`
	Allowed          bool     `json:"allowed"`
	Reasons          []reason `json:"reasons"`
	EvaluatedVersion string   `json:"evaluatedVersion,omitempty"`
	Checks           []string `json:"checks,omitempty"`
	Warnings         []string `json:"warnings,omitempty"`
	Error            string   `json:"error,omitempty"`
}

// activeCheck is one check's versioned implementation selected for a level and version.
type activeCheck struct {
	id    policy.CheckID
	level api.Level
	check policy.VersionedCheck
}

type checker struct {
	checks     []policy.Check
	evaluator  policy.Evaluator
	maxVersion api.Version
}

func newChecker() (*checker, error) {
	checks := policy.DefaultChecks()
	evaluator, err := policy.NewEvaluator(checks, nil)
	if err != nil {
		return nil, err
	}
	c := &checker{checks: checks, evaluator: evaluator}
	for _, ch := range checks {
		last := ch.Versions[len(ch.Versions)-1].MinimumVersion
		if c.maxVersion.Older(last) {
			c.maxVersion = last
		}
	}
	// The library orders results by check ID, baseline checks first, then restricted checks.
	slices.SortStableFunc(c.checks, func(a, b policy.Check) int {
		if a.Level != b.Level {
			if a.Level == api.LevelBaseline {
				return -1
			}
			return 1
		}
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return c, nil
}

// active returns the checks the library runs for a level and version, in the library's order.
func (c *checker) active(level api.Level, version api.Version) []activeCheck {
	var selected []activeCheck
	for _, ch := range c.checks {
		if level == api.LevelBaseline && ch.Level != api.LevelBaseline {
			continue
		}
		var found *policy.VersionedCheck
		for i := range ch.Versions {
			if !version.Older(ch.Versions[i].MinimumVersion) {
				found = &ch.Versions[i]
			}
		}
		if found != nil {
			selected = append(selected, activeCheck{id: ch.ID, level: ch.Level, check: *found})
		}
	}
	if level != api.LevelRestricted {
		return selected
	}
	overridden := map[policy.CheckID]bool{}
	for _, a := range selected {
		if a.level == api.LevelRestricted {
			for _, o := range a.check.OverrideCheckIDs {
				overridden[o] = true
			}
		}
	}
	return slices.DeleteFunc(selected, func(a activeCheck) bool {
		return a.level == api.LevelBaseline && overridden[a.id]
	})
}

func (c *checker) handle(line []byte) response {
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		// Keep the id when the line is a JSON object with a string id.
		var partial struct {
			ID json.RawMessage `json:"id"`
		}
		var id string
		if json.Unmarshal(line, &partial) == nil {
			_ = json.Unmarshal(partial.ID, &id)
		}
		return response{ID: id, Reasons: []reason{}, Error: fmt.Sprintf("invalid request: %v", err)}
	}
	out := response{ID: req.ID, Reasons: []reason{}}
	level, err := api.ParseLevel(req.Level)
	if err != nil {
		out.Error = fmt.Sprintf("invalid level: %v", err)
		return out
	}
	version, err := api.ParseVersion(req.Version)
	if err != nil {
		out.Error = fmt.Sprintf("invalid version: %v", err)
		return out
	}
	if len(req.Pod) == 0 || string(req.Pod) == "null" {
		out.Error = "missing pod"
		return out
	}
	var pod corev1.Pod
	// Case-sensitive like the API server; unknown fields are dropped (and listed as warnings).
	strictErrs, err := sigsjson.UnmarshalStrict(req.Pod, &pod, sigsjson.DisallowUnknownFields)
	if err != nil {
		out.Error = fmt.Sprintf("invalid pod: %v", err)
		return out
	}
	for _, e := range strictErrs {
		out.Warnings = append(out.Warnings, e.Error())
	}

	// Same clamping as the library: versions newer than every check use the newest check set.
	effective := version
	if c.maxVersion.Older(effective) {
		effective = c.maxVersion
	}
	out.EvaluatedVersion = effective.String()
	lv := api.LevelVersion{Level: level, Version: version}

	var libReasons []string
	for _, r := range c.evaluator.EvaluatePod(lv, &pod.ObjectMeta, &pod.Spec) {
		if !r.Allowed {
			libReasons = append(libReasons, r.ForbiddenReason+"\x00"+r.ForbiddenDetail)
		}
	}

	var ownReasons []string
	if level != api.LevelPrivileged {
		for _, a := range c.active(level, effective) {
			out.Checks = append(out.Checks, string(a.id))
			r := a.check.CheckPod(&pod.ObjectMeta, &pod.Spec)
			if r.Allowed {
				continue
			}
			msg := r.ForbiddenReason
			if msg == "" {
				msg = policy.UnknownForbiddenReason
			}
			out.Reasons = append(out.Reasons, reason{Check: string(a.id), Reason: msg, Detail: r.ForbiddenDetail})
			ownReasons = append(ownReasons, r.ForbiddenReason+"\x00"+r.ForbiddenDetail)
		}
	}
	if !slices.Equal(libReasons, ownReasons) {
		return response{ID: req.ID, Reasons: []reason{}, Error: fmt.Sprintf("per-check attribution disagrees with policy.Evaluator: %q vs %q", ownReasons, libReasons)}
	}
	out.Allowed = len(out.Reasons) == 0
	return out
}

func main() {
	c, err := newChecker()
	if err != nil {
		fmt.Fprintf(os.Stderr, "psa-check: %v\n", err)
		os.Exit(2)
	}
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	w := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for {
		line, readErr := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if err := enc.Encode(c.handle(line)); err != nil {
				fmt.Fprintf(os.Stderr, "psa-check: %v\n", err)
				os.Exit(2)
			}
			if in.Buffered() == 0 {
				if err := w.Flush(); err != nil {
					fmt.Fprintf(os.Stderr, "psa-check: %v\n", err)
					os.Exit(2)
				}
			}
		}
		if readErr == io.EOF {
			break
		}
		if readErr != nil {
			fmt.Fprintf(os.Stderr, "psa-check: reading stdin: %v\n", readErr)
			os.Exit(2)
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(os.Stderr, "psa-check: %v\n", err)
		os.Exit(2)
	}
}
