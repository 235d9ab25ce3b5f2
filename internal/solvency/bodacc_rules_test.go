package solvency

import (
	"strings"
	"testing"
)

func TestClassifyJudgment(t *testing.T) {
	tests := []struct {
		famille, nature, complement string
		want                        action
		kind                        string
		lackOfAssets, unknown       bool
	}{
		// Openings.
		{"Jugement d'ouverture", "Jugement d'ouverture de liquidation judiciaire", "", actOpen, KindLiquidation, false, false},
		{"Jugement d'ouverture", "Jugement d'ouverture d'une procédure de redressement judiciaire", "", actOpen, KindReceivership, false, false},
		{"Jugement d'ouverture", "Jugement d'ouverture d'une procédure de sauvegarde", "", actOpen, KindSafeguard, false, false},
		{"Jugement d'ouverture", "Jugement d'ouverture d'une procédure de traitement de sortie de crise", "", actOpen, KindOther, false, false},
		{"Jugement d'ouverture", "Autre jugement d'ouverture", "", actOpen, KindOther, false, false},
		{"Jugement d'ouverture", "Autre jugement d'ouverture", "Jugement d'ouverture d'une procédure de sauvegarde accélérée, désignant administrateur", actOpen, KindSafeguard, false, false},
		{"Jugement d'extension", "Jugement d'extension de liquidation judiciaire", "", actOpen, KindLiquidation, false, false},
		{"Jugement prononçant", "Jugement prononçant la liquidation judiciaire", "", actOpen, KindLiquidation, false, false},
		{"JUGEMENT D'OUVERTURE", "JUGEMENT D’OUVERTURE D’UNE PROCÉDURE DE REDRESSEMENT JUDICIAIRE", "", actOpen, KindReceivership, false, false},
		// Conversions and failed plans.
		{"Jugement prononçant", "Jugement de conversion en liquidation judiciaire", "", actOpen, KindLiquidation, false, false},
		{"Jugement prononçant", "Jugement de conversion en liquidation judiciaire de la procédure de sauvegarde", "", actOpen, KindLiquidation, false, false},
		{"Jugement prononçant", "Jugement de conversion en redressement judiciaire de la procédure de sauvegarde", "", actOpen, KindReceivership, false, false},
		{"Jugement prononçant", "Jugement prononçant la résolution du plan de redressement et la liquidation judiciaire", "", actOpen, KindLiquidation, false, false},
		{"Jugement prononçant", "Jugement prononçant la résolution du plan de sauvegarde et le redressement judiciaire", "", actOpen, KindReceivership, false, false},
		{"Jugement prononçant", "Jugement prononçant la résolution du plan de redressement", "", actOpen, KindOther, false, false},
		{"Jugement prononçant", "Jugement de reprise de la procédure de liquidation judiciaire", "", actOpen, KindLiquidation, false, false},
		// Plans.
		{"Jugement de plan", "Jugement arrêtant le plan de sauvegarde", "", actPlan, KindSafeguard, false, false},
		{"Jugement de plan", "Jugement arrêtant le plan de redressement", "", actPlan, KindReceivership, false, false},
		{"Jugement de plan", "Jugement de plan de redressement", "", actPlan, KindReceivership, false, false},
		{"Jugement de plan", "Jugement modifiant le plan de continuation", "", actPlan, KindReceivership, false, false},
		{"Jugement de plan", "Jugement arrêtant le plan de sauvegarde financière accélérée", "", actPlan, KindSafeguard, false, false},
		{"Jugement de plan", "Jugement de plan de traitement de sortie de crise", "", actPlan, KindOther, false, false},
		{"Jugement de plan", "Jugement arrêtant un plan de cession", "", actSale, "", false, false},
		// Closures.
		{"Jugement de clôture", "Jugement de clôture pour insuffisance d'actif", "", actClose, KindLiquidation, true, false},
		{"Jugement de clôture", "Jugement de clôture pour insuffisance d'actif et autorisant la reprise des poursuites individuelles", "", actClose, KindLiquidation, true, false},
		{"Jugement de clôture", "Jugement de clôture pour extinction du passif", "", actClose, KindLiquidation, false, false},
		{"Jugement de clôture", "Jugement de clôture de la procédure de sauvegarde", "", actClose, KindSafeguard, false, false},
		{"Jugement de clôture", "Jugement mettant fin à la procédure de redressement judiciaire", "", actClose, KindReceivership, false, false},
		{"Jugement de clôture", "Autre jugement de clôture", "", actClose, KindOther, false, false},
		// No effect on the company's state.
		{"Avis de dépôt", "Dépôt de l'état des créances", "", actNone, "", false, false},
		{"Avis de dépôt", "Liste des créances nées après le jugement d'ouverture d'une procédure de liquidation judiciaire", "", actNone, "", false, false},
		{"Jugement prononçant", "Jugement modifiant la date de cessation des paiements", "", actNone, "", false, false},
		{"Jugement prononçant", "Jugement de faillite personnelle", "", actNone, "", false, false},
		{"Jugement prononçant", "Jugement d'interdiction de gérer", "", actNone, "", false, false},
		{"Arrêt", "Arrêt de la cour d'appel infirmant une décision soumise à publicité", "", actNone, "", false, false},
		{"Jugement prononçant", "Jugement de désignation des organes de la procédure", "", actNone, "", false, false},
		// Generic natures: the complement's first clause decides, never its tail.
		{"Jugement prononçant", "Autre jugement prononçant", "Jugement prononçant la liquidation judiciaire, date de cessation des paiements le 2 octobre 2025, désignant liquidateur", actOpen, KindLiquidation, false, false},
		{"Jugement prononçant", "Autre jugement et ordonnance", "Ordonnance du juge-commissaire autorisant la vente. La liquidation judiciaire suit son cours.", actNone, "", false, true},
		{"Jugement prononçant", "Autre jugement et ordonnance", "", actNone, "", false, true},
		{"Jugement d'ouverture", "", "", actOpen, KindOther, false, false},
		{"Jugement de clôture", "", "", actClose, "", false, false},
		{"", "Décision inconnue", "", actNone, "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.nature+"|"+tt.complement, func(t *testing.T) {
			j, known := classifyJudgment(tt.famille, tt.nature, tt.complement)
			if j.action != tt.want || j.kind != tt.kind || j.lackOfAssets != tt.lackOfAssets || known == tt.unknown {
				t.Errorf("got %+v known=%v, want action %d kind %q lackOfAssets %v known %v", j, known, tt.want, tt.kind, tt.lackOfAssets, !tt.unknown)
			}
		})
	}
}

func TestFoldNotices(t *testing.T) {
	n := func(key, typ, published, judged, nature string) notice {
		d := MustDate(t, published)
		j := d
		if judged != "" {
			j = MustDate(t, judged)
		}
		return notice{key: key, typeAvis: typ, published: d, judged: j, nature: nature}
	}
	ref := func(x notice, r string) notice { x.ref = r; return x }
	tests := []struct {
		name                   string
		notices                []notice
		open, plan, closed     bool
		kind, judged, closedOn string
		companyClosed          bool
		warning                string
	}{
		{name: "nothing", notices: nil},
		{name: "plan then its resolution into liquidation", notices: []notice{
			n("A1", "annonce", "2020-01-10", "2020-01-03", "Jugement d'ouverture d'une procédure de sauvegarde"),
			n("A2", "annonce", "2020-09-10", "2020-09-01", "Jugement arrêtant le plan de sauvegarde"),
			n("A3", "annonce", "2023-03-10", "2023-03-01", "Jugement prononçant la résolution du plan de sauvegarde et la liquidation judiciaire"),
		}, open: true, kind: KindLiquidation, judged: "2023-03-01"},
		{name: "notices arrive newest first and are played by judgment date", notices: []notice{
			n("A3", "annonce", "2021-05-06", "2021-04-27", "Jugement de clôture pour insuffisance d'actif"),
			n("A1", "annonce", "2019-06-13", "2019-06-04", "Jugement d'ouverture de liquidation judiciaire"),
		}, closed: true, kind: KindLiquidation, judged: "2019-06-04", closedOn: "2021-04-27", companyClosed: true},
		{name: "reopened liquidation after closure", notices: []notice{
			n("A1", "annonce", "2019-06-13", "2019-06-04", "Jugement d'ouverture de liquidation judiciaire"),
			n("A2", "annonce", "2021-05-06", "2021-04-27", "Jugement de clôture pour insuffisance d'actif"),
			n("A3", "annonce", "2022-02-01", "2022-01-20", "Jugement de reprise de la procédure de liquidation judiciaire"),
		}, open: true, kind: KindLiquidation, judged: "2022-01-20"},
		{name: "closure whose opening we never saw", notices: []notice{
			n("A1", "annonce", "2021-05-06", "2021-04-27", "Jugement de clôture de la procédure de sauvegarde"),
		}, closed: true, kind: KindSafeguard, closedOn: "2021-04-27"},
		{name: "sale plan keeps the receivership open", notices: []notice{
			n("A1", "annonce", "2024-01-10", "2024-01-03", "Jugement d'ouverture d'une procédure de redressement judiciaire"),
			n("A2", "annonce", "2024-05-10", "2024-05-02", "Jugement arrêtant un plan de cession"),
		}, open: true, kind: KindReceivership, judged: "2024-05-02"},
		{name: "procedural notices change nothing", notices: []notice{
			n("A1", "annonce", "2024-01-10", "2024-01-03", "Jugement d'ouverture d'une procédure de redressement judiciaire"),
			n("A2", "annonce", "2024-06-10", "", "Dépôt de l'état des créances"),
		}, open: true, kind: KindReceivership, judged: "2024-01-03"},
		{name: "rectification of a rectification", notices: []notice{
			n("A1", "annonce", "2024-01-10", "2024-01-03", "Jugement d'ouverture de liquidation judiciaire"),
			ref(n("A2", "rectificatif", "2024-01-20", "2024-01-03", "Jugement d'ouverture d'une procédure de sauvegarde"), "A1"),
			ref(n("A3", "rectificatif", "2024-01-30", "2024-01-04", "Jugement d'ouverture d'une procédure de redressement judiciaire"), "A2"),
		}, open: true, kind: KindReceivership, judged: "2024-01-04"},
		{name: "cancelled rectification leaves the original", notices: []notice{
			n("A1", "annonce", "2024-01-10", "2024-01-03", "Jugement d'ouverture d'une procédure de sauvegarde"),
			ref(n("A2", "rectificatif", "2024-01-20", "2024-01-03", "Jugement d'ouverture de liquidation judiciaire"), "A1"),
			ref(n("A3", "annulation", "2024-01-30", "", ""), "A2"),
		}, open: true, kind: KindSafeguard, judged: "2024-01-03"},
		{name: "cancellation of an unseen notice is reported", notices: []notice{
			ref(n("A3", "annulation", "2024-01-30", "", ""), "A0"),
		}, warning: `refers to notice "A0", not found`},
		{name: "unknown wording is reported and skipped", notices: []notice{
			n("A1", "annonce", "2024-01-10", "2024-01-03", "Jugement d'ouverture d'une procédure de sauvegarde"),
			n("A2", "annonce", "2024-02-10", "2024-02-03", "Décision sans précédent"),
		}, open: true, kind: KindSafeguard, judged: "2024-01-03", warning: "not recognised"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := foldNotices(tt.notices)
			ins := st.insolvency
			if ins.Open != tt.open || ins.Plan != tt.plan || (ins.ClosedDate != nil) != tt.closed || ins.Kind != tt.kind {
				t.Errorf("insolvency = %+v, want open=%v plan=%v closed=%v kind=%q", ins, tt.open, tt.plan, tt.closed, tt.kind)
			}
			checkDate(t, "judgment_date", ins.JudgmentDate, tt.judged)
			checkDate(t, "closed_date", ins.ClosedDate, tt.closedOn)
			if st.companyClosed != tt.companyClosed {
				t.Errorf("companyClosed = %v, want %v", st.companyClosed, tt.companyClosed)
			}
			if got := strings.Join(st.warnings, "; "); (tt.warning == "") != (got == "") || !strings.Contains(got, tt.warning) {
				t.Errorf("warnings = %q, want %q", got, tt.warning)
			}
		})
	}
}

func TestParseRegisterDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2024-01-15", "2024-01-15"},
		{"2024-01-15T00:00:00Z", "2024-01-15"},
		{"15/01/2024", "2024-01-15"},
		{"1er janvier 2020", "2020-01-01"},
		{"10 décembre 2009", "2009-12-10"},
		{"27 AVRIL 2021", "2021-04-27"},
		{"3 août 2022", "2022-08-03"},
		{"31 février 2022", ""},
		{"6 may 2011", ""},
		{"2024-02-30", ""},
		{"", ""},
	}
	for _, tt := range tests {
		d, err := parseRegisterDate(tt.in)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("%q: got %s, want an error", tt.in, d)
		case tt.want != "" && (err != nil || d.String() != tt.want):
			t.Errorf("%q: got %s, %v, want %s", tt.in, d, err, tt.want)
		}
	}
}
