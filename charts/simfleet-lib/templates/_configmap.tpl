{{/* The plain settings as environment variables (secrets never land here: they come from existingSecret). */}}
{{- define "simfleet-lib.configmap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "simfleet-lib.configMapName" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "simfleet-lib.labels" . | nindent 4 }}
data:
  {{- include "simfleet-lib.configEnv" . | trim | nindent 2 }}
{{- end }}
