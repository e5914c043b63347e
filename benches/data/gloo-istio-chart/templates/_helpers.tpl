{{/* The spec of one gateway proxy: its own keys over those of gatewayProxy (as the Gloo chart
merges them). Returned as YAML because include can only return text. */}}
{{- define "gi.proxySpec" -}}
{{- $base := deepCopy .root.Values.gatewayProxies.gatewayProxy -}}
{{- $own := deepCopy (.raw | default dict) -}}
{{- toYaml (mergeOverwrite $base $own) -}}
{{- end -}}

{{- define "gi.image" -}}
{{- $img := .image -}}
{{- $reg := $img.registry | default .global.image.registry -}}
{{- printf "%s/%s:%s" $reg $img.repository $img.tag -}}
{{- end -}}

{{- define "gi.sdsEnabled" -}}
{{- $g := .Values.global -}}
{{- if or $g.glooMtls.enabled $g.istioSDS.enabled $g.istioIntegration.enabled }}true{{ end -}}
{{- end -}}

{{- define "gi.istioEnabled" -}}
{{- $g := .Values.global -}}
{{- if or $g.istioSDS.enabled $g.istioIntegration.enabled }}true{{ end -}}
{{- end -}}
