package notify

import (
	"fmt"
	"log/slog"
)

// Secret is a credential or a URL that holds one (a Slack webhook): it prints, marshals and logs
// as <secret>; Reveal gives the value to the code that sends it. The value sits behind a pointer
// so that even fmt's fallbacks, which print a struct's fields without calling their methods
// (%s of a pointer to a destination), show an address and not the value.
type Secret struct{ p *string }

// NewSecret wraps v.
func NewSecret(v string) Secret { return Secret{&v} }

// Reveal returns the secret's value.
func (s Secret) Reveal() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.Reveal() == "" }

// String hides the value.
func (s Secret) String() string { return "<secret>" }

// GoString hides the value from %#v.
func (s Secret) GoString() string { return "<secret>" }

// Format hides the value from every fmt verb.
func (s Secret) Format(f fmt.State, verb rune) { fmt.Fprint(f, "<secret>") }

// MarshalJSON hides the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"<secret>"`), nil }

// MarshalText hides the value (YAML, encoding that use TextMarshaler).
func (s Secret) MarshalText() ([]byte, error) { return []byte("<secret>"), nil }

// LogValue hides the value from log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue("<secret>") }
