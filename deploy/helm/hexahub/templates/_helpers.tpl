{{/* Names, labels and the pieces several templates share. */}}

{{- define "hexahub.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "hexahub.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "hexahub.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "hexahub.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "hexahub.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hexahub.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "hexahub.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "hexahub.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: hexahub
{{- end -}}

{{- define "hexahub.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "hexahub.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "hexahub.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "hexahub.secretName" -}}
{{- default (include "hexahub.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* Where the Secret's keys appear as files (secrets.mountAsFiles). */}}
{{- define "hexahub.secretsDir" -}}/run/secrets/hexahub{{- end -}}

{{/* The Secret keys the service reads, one per line. */}}
{{- define "hexahub.secretKeys" -}}
{{- if .Values.secrets.existingSecret -}}
{{- range .Values.secrets.existingSecretKeys }}
{{ . }}
{{- end -}}
{{- else -}}
{{- if or .Values.database.url .Values.devServices.enabled }}
DATABASE_URL
{{- end }}
{{- if or .Values.redis.url .Values.devServices.enabled }}
REDIS_URL
{{- end }}
JWT_SECRET
KEY_ENCRYPTION_KEYS
{{- if .Values.secrets.smtpPassword }}
SMTP_PASSWORD
{{- end }}
{{- if .Values.secrets.firstAdminPassword }}
FIRST_ADMIN_PASSWORD
{{- end }}
{{- end -}}
{{- end -}}

{{/* A database is configured: a URL, an existing Secret expected to hold one, or the
     development PostgreSQL. */}}
{{- define "hexahub.hasDatabase" -}}
{{- if or .Values.database.url .Values.secrets.existingSecret .Values.devServices.enabled -}}true{{- end -}}
{{- end -}}

{{/* Everything a HexaHub container reads: the ConfigMap, then the secrets as files
     (NAME_FILE) or as variables. The same for the server, the migration Job and the
     schema wait, so `hexahub migrate` validates the same settings the server does. */}}
{{- define "hexahub.envFrom" -}}
- configMapRef:
    name: {{ include "hexahub.fullname" . }}
{{- if not .Values.secrets.mountAsFiles }}
- secretRef:
    name: {{ include "hexahub.secretName" . }}
{{- end }}
{{- end -}}

{{- define "hexahub.env" -}}
{{- if .Values.secrets.mountAsFiles }}
{{- range (include "hexahub.secretKeys" . | trim | splitList "\n") }}
- name: {{ . }}_FILE
  value: {{ include "hexahub.secretsDir" $ }}/{{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "hexahub.volumeMounts" -}}
- name: data
  mountPath: /data
- name: tmp
  mountPath: /tmp
{{- if .Values.secrets.mountAsFiles }}
- name: secrets
  mountPath: {{ include "hexahub.secretsDir" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{- define "hexahub.volumes" -}}
# DATA_DIR (the metrics of several workers) and /tmp on a read-only root filesystem.
- name: data
  emptyDir:
    sizeLimit: 256Mi
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if .Values.secrets.mountAsFiles }}
- name: secrets
  secret:
    secretName: {{ include "hexahub.secretName" . }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{/* Hooks run before the release's ordinary resources exist, so what the migration
     Job reads (the ConfigMap and the Secret) is created as a hook first. Always, not
     only with the Job: a resource cannot move between hook and ordinary on upgrade. */}}
{{- define "hexahub.configHookAnnotations" -}}
helm.sh/hook: pre-install,pre-upgrade
helm.sh/hook-weight: "-10"
helm.sh/hook-delete-policy: before-hook-creation
{{- end -}}
