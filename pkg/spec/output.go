package spec

// The output section: where command output logs go.

// Output is where command output logs go.
type Output struct {
	OTelEndpoint string `yaml:"otel_endpoint,omitempty"`
	FilePath     string `yaml:"file_path,omitempty"`
}

func (b *builder) output() error {
	o := b.raw.Output
	if o == nil {
		return nil
	}
	b.c.Output = &Output{}
	if o.OTel != nil {
		b.c.Output.OTelEndpoint = o.OTel.Endpoint
	}
	if o.File != nil {
		b.c.Output.FilePath = o.File.Path
	}
	return nil
}
