package sqs

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ObjectRef is an S3 object a notification names.
type ObjectRef struct {
	Bucket, Key string
	// Size and ETag are as the notification gives them (0 and "" when it does not); the ETag
	// without quotes.
	Size int64
	ETag string
}

// Notification is what one message says.
type Notification struct {
	// Via is how it came: "s3" (S3 event notification), "sns" (one wrapped by SNS),
	// "eventbridge" (an EventBridge event), "test" (s3:TestEvent, sent by S3 when a
	// notification is configured).
	Via string
	// Objects are the objects created.
	Objects []ObjectRef
	// Ignored counts the events that name no created object (ObjectRemoved, other event types):
	// nothing to ingest.
	Ignored int
}

// ErrNotNotification is wrapped by the error of a message that is not an S3 event
// notification in any of the forms Parse knows.
var ErrNotNotification = errors.New("not an S3 event notification")

// Parse decodes a message body: an S3 event notification ({"Records":[…]}, keys URL-encoded
// with + for a space), the same wrapped in an SNS notification (its Message field is the
// notification as a JSON string), an EventBridge event ("detail-type": "Object Created",
// detail.bucket.name and detail.object.key, the key not encoded), or s3:TestEvent.
func Parse(body string) (Notification, error) {
	return parse(body, 0)
}

func parse(body string, depth int) (Notification, error) {
	var top struct {
		Records    []json.RawMessage `json:"Records"`
		Event      string            `json:"Event"`
		Type       string            `json:"Type"`
		Message    *string           `json:"Message"`
		DetailType string            `json:"detail-type"`
		Source     string            `json:"source"`
		Detail     json.RawMessage   `json:"detail"`
	}
	dec := json.NewDecoder(strings.NewReader(body))
	if err := dec.Decode(&top); err != nil {
		return Notification{}, fmt.Errorf("%w: the body is not a JSON object (%v): %s", ErrNotNotification, err, excerpt([]byte(body)))
	}
	switch {
	case top.Event == "s3:TestEvent":
		return Notification{Via: "test"}, nil
	case top.Records != nil:
		return parseS3(top.Records)
	case top.Type == "Notification" && top.Message != nil:
		if depth > 0 {
			return Notification{}, fmt.Errorf("%w: an SNS notification inside another", ErrNotNotification)
		}
		n, err := parse(*top.Message, depth+1)
		if err != nil {
			return n, fmt.Errorf("the SNS notification's Message: %w", err)
		}
		if n.Via != "test" {
			n.Via = "sns"
		}
		return n, nil
	case top.DetailType != "" && top.Detail != nil:
		return parseEventBridge(top.Source, top.DetailType, top.Detail)
	}
	return Notification{}, fmt.Errorf("%w: no Records, no SNS Message, no EventBridge detail: %s", ErrNotNotification, excerpt([]byte(body)))
}

func parseS3(records []json.RawMessage) (Notification, error) {
	n := Notification{Via: "s3"}
	for i, raw := range records {
		var r struct {
			EventSource string `json:"eventSource"`
			EventName   string `json:"eventName"`
			S3          *struct {
				Bucket struct {
					Name string `json:"name"`
				} `json:"bucket"`
				Object struct {
					Key  string `json:"key"`
					Size int64  `json:"size"`
					ETag string `json:"eTag"`
				} `json:"object"`
			} `json:"s3"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return Notification{}, fmt.Errorf("%w: Records[%d]: %v", ErrNotNotification, i, err)
		}
		if r.EventSource != "aws:s3" || r.S3 == nil {
			return Notification{}, fmt.Errorf("%w: Records[%d] has eventSource %q, not an S3 event", ErrNotNotification, i, r.EventSource)
		}
		if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
			n.Ignored++
			continue
		}
		if r.S3.Bucket.Name == "" || r.S3.Object.Key == "" {
			return Notification{}, fmt.Errorf("%w: Records[%d] names no bucket or no key", ErrNotNotification, i)
		}
		// S3 encodes the key as in a form: %XX, and + for a space.
		key, err := url.QueryUnescape(r.S3.Object.Key)
		if err != nil {
			return Notification{}, fmt.Errorf("%w: Records[%d]: s3.object.key %q is not URL-encoded: %v", ErrNotNotification, i, r.S3.Object.Key, err)
		}
		n.Objects = append(n.Objects, ObjectRef{Bucket: r.S3.Bucket.Name, Key: key, Size: r.S3.Object.Size, ETag: strings.Trim(r.S3.Object.ETag, `"`)})
	}
	return n, nil
}

func parseEventBridge(source, detailType string, detail json.RawMessage) (Notification, error) {
	if source != "aws.s3" {
		return Notification{}, fmt.Errorf("%w: an EventBridge event from %q, not aws.s3", ErrNotNotification, source)
	}
	n := Notification{Via: "eventbridge"}
	if detailType != "Object Created" {
		n.Ignored++
		return n, nil
	}
	var d struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key  string `json:"key"`
			Size int64  `json:"size"`
			ETag string `json:"etag"`
		} `json:"object"`
	}
	if err := json.Unmarshal(detail, &d); err != nil {
		return Notification{}, fmt.Errorf("%w: EventBridge detail: %v", ErrNotNotification, err)
	}
	if d.Bucket.Name == "" || d.Object.Key == "" {
		return Notification{}, fmt.Errorf("%w: the EventBridge detail names no bucket or no key", ErrNotNotification)
	}
	n.Objects = append(n.Objects, ObjectRef{Bucket: d.Bucket.Name, Key: d.Object.Key, Size: d.Object.Size, ETag: strings.Trim(d.Object.ETag, `"`)})
	return n, nil
}
