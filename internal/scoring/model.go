// Package scoring turns a client's features into a risk score with its explanation, using a
// versioned scorecard read from models/*.yaml. It is pure: no I/O besides reading the model files
// it is given, no clock, so the same features and model version always give the same bytes.
package scoring

import (
	"math"
	"slices"
)

// Model is one validated scorecard. Only Parse and LoadModels build it, so a *Model in hand has
// bins without gap or overlap, a missing bin per characteristic and classes covering every score.
type Model struct {
	name        string
	version     string
	versionLine int
	description string
	file        string
	digest      string
	scaling     Scaling
	chars       []characteristic
	classes     []class // in file order: A (best, highest scores) to E
	minScore    int
	maxScore    int
}

// characteristic is one line of the scorecard: a feature cut into bins, each worth some points.
type characteristic struct {
	feature   string
	kind      Kind
	bins      []bin // ranges in ascending order, or the boolean categories
	missing   bin
	minPoints int
	maxPoints int
	reason    reasonTemplate
	line      int
}

// bin is one range [lo, hi) of a numeric feature, one category of a boolean feature, or the
// missing bin.
type bin struct {
	label  string
	points int
	lo, hi float64
	is     bool
	line   int
}

// class is a risk class: the scores in [lo, hi).
type class struct {
	name   string
	lo, hi float64
	line   int
}

// Name is the model's human title.
func (m *Model) Name() string { return m.name }

// Version identifies the model; scores record it.
func (m *Model) Version() string { return m.version }

// Description is the model's free text: its method and intent.
func (m *Model) Description() string { return m.description }

// File is the file the model was read from.
func (m *Model) File() string { return m.file }

// Digest is the hex SHA-256 of the model file, to tell an edited file from the one a score used.
func (m *Model) Digest() string { return m.digest }

// Scaling returns the score-to-odds scaling.
func (m *Model) Scaling() Scaling { return m.scaling }

// MinScore is the lowest score the model can give.
func (m *Model) MinScore() int { return m.minScore }

// MaxScore is the highest score the model can give.
func (m *Model) MaxScore() int { return m.maxScore }

// Features lists the features the model uses, in its order.
func (m *Model) Features() []string {
	out := make([]string, len(m.chars))
	for i, c := range m.chars {
		out[i] = c.feature
	}
	return out
}

// ClassBand is one risk class and its score range, From inclusive and Below exclusive; nil
// means unbounded.
type ClassBand struct {
	Class string `json:"class"`
	From  *int   `json:"from"`
	Below *int   `json:"below"`
}

// Classes lists the risk classes from A (best) to E.
func (m *Model) Classes() []ClassBand {
	out := make([]ClassBand, len(m.classes))
	for i, c := range m.classes {
		out[i] = ClassBand{Class: c.name, From: intBound(c.lo), Below: intBound(c.hi)}
	}
	return out
}

func intBound(x float64) *int {
	if math.IsInf(x, 0) {
		return nil
	}
	n := int(x)
	return &n
}

// Info is what GET /v1/models shows of a model.
type Info struct {
	Name        string      `json:"name"`
	Version     string      `json:"version"`
	Description string      `json:"description"`
	File        string      `json:"file"`
	Digest      string      `json:"digest"`
	Scaling     Scaling     `json:"scaling"`
	MinScore    int         `json:"min_score"`
	MaxScore    int         `json:"max_score"`
	Features    []string    `json:"features"`
	Classes     []ClassBand `json:"classes"`
}

// Info summarises the model.
func (m *Model) Info() Info {
	return Info{
		Name: m.name, Version: m.version, Description: m.description, File: m.file,
		Digest: m.digest, Scaling: m.scaling, MinScore: m.minScore, MaxScore: m.maxScore,
		Features: m.Features(), Classes: m.Classes(),
	}
}

// classOf returns the class whose band holds the score; validation guarantees one does.
func (m *Model) classOf(score int) string {
	s := float64(score)
	for _, c := range m.classes {
		if s >= c.lo && s < c.hi {
			return c.name
		}
	}
	panic("scoring: validated classes do not cover score") // unreachable for a loaded Model
}

// binOf returns the bin that holds v; a value of the wrong kind counts as missing.
func (c *characteristic) binOf(v Value) *bin {
	switch {
	case v.kind == KindNumber && c.kind == KindNumber:
		for i := range c.bins {
			if v.num >= c.bins[i].lo && v.num < c.bins[i].hi {
				return &c.bins[i]
			}
		}
	case v.kind == KindBool && c.kind == KindBool:
		for i := range c.bins {
			if c.bins[i].is == v.b {
				return &c.bins[i]
			}
		}
	}
	return &c.missing
}

// sortModels orders models by ascending version.
func sortModels(ms []*Model) {
	slices.SortFunc(ms, func(a, b *Model) int { return CompareVersions(a.version, b.version) })
}
