{{/* The umbrella's standard labels (the services' charts carry their own). */}}
{{- define "simfleet.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: observability
app.kubernetes.io/part-of: simfleet
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
