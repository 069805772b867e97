#!/usr/bin/env bash
# Writes the Terraform CLI config the make targets export as TF_CLI_CONFIG_FILE.
# hashicorp/aws comes from a local filesystem mirror when one exists (offline installs), else from the
# public registry. Set TF_PROVIDER_MIRROR to name a mirror directory explicitly.
set -euo pipefail
out="$1"; cache_dir="$2"; version="$3"
wanted="registry.terraform.io/hashicorp/aws/$version"
mirror="${TF_PROVIDER_MIRROR:-}"
if [ -z "$mirror" ]; then
  for root in /opt /usr/local/share/terraform /usr/share/terraform "$HOME/.terraform.d" "$HOME/.local/share/terraform"; do
    [ -d "$root" ] || continue
    hit=$(find "$root" -maxdepth 5 -type d -path "*/$wanted" 2>/dev/null | head -n 1 || true)
    if [ -n "$hit" ]; then mirror="${hit%/"$wanted"}"; break; fi
  done
fi
{
  # A local mirror is already shared by every stack: init links each stack's provider to it. Terraform's plugin
  # cache would only add a second link that every init re-creates, and that is not safe for concurrent inits.
  # Downloading from the registry, the cache spares every stack its own copy of the ~700 MB provider.
  if [ -z "$mirror" ]; then
    mkdir -p "$cache_dir/terraform-plugins"
    echo "plugin_cache_dir = \"$cache_dir/terraform-plugins\""
  fi
  echo "disable_checkpoint = true"
  echo "provider_installation {"
  if [ -n "$mirror" ]; then
    echo "  filesystem_mirror {"
    echo "    path    = \"$mirror\""
    echo "    include = [\"registry.terraform.io/hashicorp/aws\"]"
    echo "  }"
    echo "  direct {"
    echo "    exclude = [\"registry.terraform.io/hashicorp/aws\"]"
    echo "  }"
  else
    echo "  direct {}"
  fi
  echo "}"
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "terraform CLI config: $out (hashicorp/aws ${version} from ${mirror:-the public registry})"
