package spec

// Plain scalars as Kamal's YAML loader (Ruby's Psych, YAML 1.1) reads
// them. yaml.v3 follows YAML 1.2, where `yes`, `on`, `0755` or `1:30` are
// the strings they look like; Psych reads them as true, true, 493 and 5400,
// and Kamal then uses Ruby's to_s of that value. Rewriting each plain scalar
// to that text (with its Psych type as the tag) once, when the tree is
// built, makes every key read what Kamal reads: env values, labels, options,
// booleans and numbers alike. Quoted and explicitly tagged scalars are left
// as written, as Psych leaves them.

import (
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The shapes of Psych's ScalarScanner (YAML 1.1 types plus Ruby's legacy
// comma separators), checked in its order.
var (
	psychWordy      = regexp.MustCompile(`^[^\d.:-]?[[:alpha:]_\s!@#$%^&*(){}<>|/\\~;=]+`)
	psychTime       = regexp.MustCompile(`^-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|\s+)\d{1,2}:\d\d:\d\d(?:\.\d*)?(?:\s*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?$`)
	psychDate       = regexp.MustCompile(`^(\d{4})-(1[012]|0\d|\d)-([12]\d|3[01]|0\d|\d)$`)
	psychSexInt     = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}$`)
	psychSexFloat   = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}\.[0-9_]*$`)
	psychFloat      = regexp.MustCompile(`^[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?$`)
	psychInt        = regexp.MustCompile(`^(?:[-+]?0b[_,]*[0-1][0-1_,]*|[-+]?0[_,]*[0-7][0-7_,]*|[-+]?(?:0|[1-9](?:[0-9]|,[0-9]|_[0-9])*)|[-+]?0x[_,]*[0-9a-fA-F][0-9a-fA-F_,]*)$`)
	psychBoolTrue   = regexp.MustCompile(`(?i)^(yes|true|on)$`)
	psychBoolFalse  = regexp.MustCompile(`(?i)^(no|false|off)$`)
	psychNull       = regexp.MustCompile(`(?i)^null$`)
	psychLoneDot    = regexp.MustCompile(`^[-+]?\.$`)
	psychInf        = regexp.MustCompile(`(?i)^\+?\.inf$`)
	psychNegInf     = regexp.MustCompile(`(?i)^-\.inf$`)
	psychNaN        = regexp.MustCompile(`(?i)^\.nan$`)
	psychQuotedSymb = regexp.MustCompile(`^:(["'])(.*)["']`)
)

// psychScalar is Ruby's to_s of what Psych loads from the plain scalar s,
// and the YAML tag of its type ("!!str" when it stays a string).
func psychScalar(s string) (text, tag string) {
	switch {
	case s == "":
		return "", "!!null"
	case psychWordy.MatchString(s) || strings.Contains(s, "\n"):
		return psychWord(s)
	case psychTime.MatchString(s):
		// A Time's to_s depends on the zone Ruby runs in; left as written.
		return s, "!!str"
	case psychDate.MatchString(s):
		return psychDateText(s)
	case psychInf.MatchString(s):
		return "Infinity", "!!float"
	case psychNegInf.MatchString(s):
		return "-Infinity", "!!float"
	case psychNaN.MatchString(s):
		return "NaN", "!!float"
	case strings.HasPrefix(s, ":") && len(s) > 1:
		// A Symbol; its to_s drops the colon (and the quotes of :"x").
		if m := psychQuotedSymb.FindStringSubmatch(s); m != nil {
			return strings.TrimPrefix(m[2], ":"), "!!str"
		}
		return s[1:], "!!str"
	case psychSexInt.MatchString(s):
		return psychSexagesimal(s, false), "!!int"
	case psychSexFloat.MatchString(s):
		return psychSexagesimal(s, true), "!!float"
	case psychFloat.MatchString(s):
		if psychLoneDot.MatchString(s) {
			return s, "!!str"
		}
		f, err := strconv.ParseFloat(strings.NewReplacer(",", "", "_", "").Replace(s), 64)
		if err != nil {
			return s, "!!str"
		}
		return rubyFloat(f), "!!float"
	case psychInt.MatchString(s):
		if n, ok := rubyInteger(strings.NewReplacer(",", "", "_", "").Replace(s)); ok {
			return n, "!!int"
		}
	}
	return s, "!!str"
}

// psychWord reads the short words Psych gives a meaning: null, ~ and the
// YAML 1.1 booleans, in any case.
func psychWord(s string) (string, string) {
	switch {
	case len(s) > 5:
	case s == "~" || psychNull.MatchString(s):
		return "", "!!null"
	case psychBoolTrue.MatchString(s):
		return "true", "!!bool"
	case psychBoolFalse.MatchString(s):
		return "false", "!!bool"
	}
	return s, "!!str"
}

// psychDateText is a Date's to_s (zero-padded), or s itself when there is
// no such day (Psych then keeps the string).
func psychDateText(s string) (string, string) {
	m := psychDate.FindStringSubmatch(s)
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	d, _ := strconv.Atoi(m[3])
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != mo || t.Day() != d {
		return s, "!!str"
	}
	return t.Format("2006-01-02"), "!!str"
}

// psychSexagesimal sums the parts of a base-60 number as Psych does: each
// part times 60 to the power of |index - 2|, so "1:30" is 5400 and
// "1:02:03" is 3723.
func psychSexagesimal(s string, float bool) string {
	parts := strings.Split(strings.ReplaceAll(s, "_", ""), ":")
	if float {
		sum := 0.0
		for i, p := range parts {
			f, _ := strconv.ParseFloat(p, 64)
			sum += f * math.Pow(60, math.Abs(float64(i-2)))
		}
		return rubyFloat(sum)
	}
	sum := new(big.Int)
	for i, p := range parts {
		n, _ := new(big.Int).SetString(p, 10)
		if n == nil {
			n = new(big.Int)
		}
		w := new(big.Int).Exp(big.NewInt(60), big.NewInt(int64(abs(i-2))), nil)
		sum.Add(sum, n.Mul(n, w))
	}
	return sum.String()
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// rubyInteger is Ruby's Integer(s): a leading 0 is octal, 0b binary, 0x
// hex; the result in decimal, of any size.
func rubyInteger(s string) (string, bool) {
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	base := 10
	switch {
	case strings.HasPrefix(s, "0b"):
		base, s = 2, s[2:]
	case strings.HasPrefix(s, "0x"):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	n, ok := new(big.Int).SetString(s, base)
	if !ok {
		return "", false
	}
	if neg {
		n.Neg(n)
	}
	return n.String(), true
}

// rubyFloat is Ruby's Float#to_s: shortest digits, fixed notation with at
// least one decimal when the decimal exponent is in (-4, 16], otherwise
// d.ddde+XX.
func rubyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1
	switch {
	case decpt > 0 && decpt <= 16:
		if len(digits) <= decpt {
			return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
		}
		return sign + digits[:decpt] + "." + digits[decpt:]
	case decpt <= 0 && decpt > -4:
		return sign + "0." + strings.Repeat("0", -decpt) + digits
	}
	frac := digits[1:]
	if frac == "" {
		frac = "0"
	}
	es := "+"
	if decpt-1 < 0 {
		es = "-"
	}
	return sign + digits[:1] + "." + frac + "e" + es + pad2(abs(decpt-1))
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}
