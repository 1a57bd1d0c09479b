{{/* A PodDisruptionBudget of the component's pods: minAvailable when set, maxUnavailable otherwise. */}}
{{- define "simfleet-lib.pdb" -}}
{{- if .Values.podDisruptionBudget.enabled -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "simfleet-lib.componentFullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "simfleet-lib.labels" . | nindent 4 }}
spec:
  {{- if .Values.podDisruptionBudget.minAvailable }}
  minAvailable: {{ .Values.podDisruptionBudget.minAvailable }}
  {{- else }}
  maxUnavailable: {{ .Values.podDisruptionBudget.maxUnavailable }}
  {{- end }}
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels:
      {{- include "simfleet-lib.componentSelectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}
