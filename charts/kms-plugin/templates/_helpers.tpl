{{/* Name of every object: the release name, plus "-kms-plugin" unless it already says so. */}}
{{- define "kms-plugin.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kms-plugin.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kms-plugin.labels" -}}
{{ include "kms-plugin.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "kms-plugin.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* Where the container reads the keystore, passphrase and PIN: a hostPath or an in-memory copy. */}}
{{- define "kms-plugin.keysDirectory" -}}
/etc/kms-plugin
{{- end -}}

{{- define "kms-plugin.secretSourceDirectory" -}}
/run/kms-plugin-source
{{- end -}}

{{/* True when the init container copies Secret files into memory with the plugin user's ownership. */}}
{{- define "kms-plugin.copiesSecrets" -}}
{{- if or (eq .Values.provider "pkcs11") (eq .Values.software.source "secret") -}}true{{- end -}}
{{- end -}}

{{/* The serve flags; only flags `kms-plugin serve --help` lists (checked by the test suite). */}}
{{- define "kms-plugin.args" -}}
- serve
- --socket={{ .Values.socket.hostDirectory }}/{{ .Values.socket.name }}
- --socket-mode={{ .Values.socket.mode }}
- --health-address={{ if .Values.metrics.expose }}0.0.0.0{{ else }}127.0.0.1{{ end }}:{{ .Values.health.port }}
- --log-level={{ .Values.logLevel }}
- --shutdown-grace={{ .Values.shutdownGrace }}
- --expiry-warning={{ .Values.expiryWarning }}
- --provider={{ .Values.provider }}
{{- if eq .Values.provider "software" }}
- --keystore={{ include "kms-plugin.keysDirectory" . }}/keystore.json
- --passphrase-file={{ include "kms-plugin.keysDirectory" . }}/passphrase
{{- else }}
- --pkcs11-module={{ required "pkcs11.module is required" .Values.pkcs11.module }}
- --pkcs11-token={{ required "pkcs11.token is required with provider pkcs11" .Values.pkcs11.token }}
{{- with .Values.pkcs11.tokenSerial }}
- --pkcs11-token-serial={{ . }}
{{- end }}
- --pkcs11-pin-file={{ include "kms-plugin.keysDirectory" . }}/pin
- --pkcs11-key={{ required "pkcs11.key (the primary key's label) is required with provider pkcs11" .Values.pkcs11.key }}
{{- range .Values.pkcs11.decryptKeys }}
- --pkcs11-decrypt-key={{ . }}
{{- end }}
- --pkcs11-max-sessions={{ .Values.pkcs11.maxSessions }}
- --pkcs11-call-timeout={{ .Values.pkcs11.callTimeout }}
{{- end }}
{{- end -}}
