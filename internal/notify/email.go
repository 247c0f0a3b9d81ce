package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/textproto"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Email sends each message as a multipart (text and HTML) mail over SMTP, with STARTTLS (always,
// unless Insecure) and AUTH PLAIN when Username is set.
type Email struct {
	Addr     string // host:port of the smarthost
	From     string
	To       []string
	Username string
	Password Secret
	// TLS is the STARTTLS configuration (nil: the system's roots, ServerName from Addr).
	TLS *tls.Config
	// Insecure allows a server without STARTTLS (a local relay); never with a password.
	Insecure bool
	// Now is the Date header's clock (nil: time.Now).
	Now func() time.Time
}

var emailHTML = template.Must(template.New("mail").Parse(`<!doctype html>
<html><body style="font-family: sans-serif">
<h2>{{.Title}}</h2>
{{if .Summary}}<p>{{.Summary}}</p>{{end}}
{{if .Fields}}<table cellpadding="4">{{range .Fields}}<tr><th align="left">{{.Name}}</th><td>{{.Value}}</td></tr>{{end}}</table>{{end}}
{{if .Command}}<p>See the event:</p><pre>{{.Command}}</pre>{{end}}
{{if .Link}}<p><a href="{{.Link}}">{{.Link}}</a></p>{{end}}
</body></html>
`))

// mail renders m as an RFC 5322 message.
func (e *Email) mail(m *Message, now time.Time) ([]byte, error) {
	var text strings.Builder
	if m.Summary != "" {
		text.WriteString(m.Summary + "\n\n")
	}
	for _, f := range m.Fields {
		fmt.Fprintf(&text, "%s: %s\n", f.Name, f.Value)
	}
	cmd := m.EventCommand()
	if cmd != "" {
		text.WriteString("\nSee the event:\n  " + cmd + "\n")
	}
	if m.Link != "" {
		text.WriteString("\n" + m.Link + "\n")
	}
	var html bytes.Buffer
	parts := []struct{ typ, body string }{{"text/plain", text.String()}, {"text/html", ""}}
	if r := m.Report; r != nil {
		switch r.Format {
		case "json":
			parts = parts[:1]
			parts[0].body = string(r.JSON)
		case "markdown":
			parts = parts[:1]
			parts[0].body = r.Markdown
		default: // html, with the Markdown as the text part
			parts[0].body = r.Markdown
			parts[1].body = r.HTML
		}
	} else {
		if err := emailHTML.Execute(&html, map[string]any{"Title": m.Title, "Summary": m.Summary, "Fields": m.Fields, "Command": cmd, "Link": m.Link}); err != nil {
			return nil, err
		}
		parts[1].body = html.String()
	}
	subject := m.Title
	if m.Severity != "" {
		subject = "[" + strings.ToUpper(m.Severity) + "] " + subject
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	hdr := func(k, v string) { fmt.Fprintf(&buf, "%s: %s\r\n", k, v) }
	hdr("From", e.From)
	hdr("To", strings.Join(e.To, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", strings.ReplaceAll(subject, "\n", " ")))
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+m.ID+"@trailsql>")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	buf.WriteString("\r\n")
	for _, part := range parts {
		w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {part.typ + "; charset=utf-8"}, "Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		qp.Write([]byte(part.body))
		qp.Close()
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Send delivers the messages over one SMTP session. A connection failure and 4xx replies are
// retryable; 5xx replies are refusals.
func (e *Email) Send(ctx context.Context, msgs []Message) error {
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", e.Addr)
	if err != nil {
		return fmt.Errorf("connect to smtp %s: %w", e.Addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	} else {
		conn.SetDeadline(time.Now().Add(2 * time.Minute))
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	var c *smtp.Client
	if e.Insecure && e.Username == "" {
		c = smtp.NewClient(conn)
		if err := c.Hello("trailsql"); err != nil {
			c.Close()
			return sessionError(e.Addr, err)
		}
	} else {
		cfg := e.TLS
		if cfg == nil {
			host, _, _ := net.SplitHostPort(e.Addr)
			cfg = &tls.Config{ServerName: host}
		}
		if c, err = smtp.NewClientStartTLS(conn, cfg); err != nil {
			conn.Close()
			return sessionError(e.Addr, err)
		}
	}
	defer c.Close()
	if e.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", e.Username, e.Password.Reveal())); err != nil {
			return sessionError(e.Addr, err)
		}
	}
	err = sendEach(ctx, msgs, func(ctx context.Context, m *Message) error {
		body, err := e.mail(m, now())
		if err != nil {
			return &SendError{Detail: "render mail: " + err.Error()}
		}
		if err := c.SendMail(e.From, e.To, bytes.NewReader(body)); err != nil {
			c.Reset()
			return smtpError(e.Addr, err)
		}
		return nil
	})
	if err == nil {
		c.Quit()
	}
	return err
}

// sessionError is a failure before any message (greeting, STARTTLS, AUTH): the server or its
// settings are at fault, not a message, so it is retryable (a wrong password keeps the mail
// queued, and logged, until it is fixed, instead of refusing every message).
func sessionError(addr string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return &SendError{Status: se.Code, Retryable: true, Detail: fmt.Sprintf("smtp %s: %s", addr, se.Message)}
	}
	return fmt.Errorf("smtp %s: %w", addr, err)
}

// smtpError classifies an SMTP failure: 4xx replies retryable, 5xx refusals, others (network)
// retryable.
func smtpError(addr string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return &SendError{Status: se.Code, Retryable: se.Code < 500, Detail: fmt.Sprintf("smtp %s: %s", addr, se.Message)}
	}
	return fmt.Errorf("smtp %s: %w", addr, err)
}
