{{/*
The ClusterIP Service in front of the component's pods: one port per entry of .Values.ports
(only those named in .component.servicePorts when it names any).
*/}}
{{- define "simfleet-lib.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "simfleet-lib.componentFullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "simfleet-lib.labels" . | nindent 4 }}
  {{- with .Values.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: ClusterIP
  selector:
    {{- include "simfleet-lib.componentSelectorLabels" . | nindent 4 }}
  ports:
    {{- $only := get (get . "component" | default (dict)) "servicePorts" | default (list) }}
    {{- range .Values.ports }}
    {{- if or (not $only) (has .name $only) }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .name }}
      protocol: TCP
      {{- with .appProtocol }}
      appProtocol: {{ . }}
      {{- end }}
    {{- end }}
    {{- end }}
{{- end }}
