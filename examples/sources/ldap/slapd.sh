#!/bin/sh
# Serves directory.ldif with OpenLDAP's slapd on ldap://127.0.0.1:3389 until interrupted,
# for examples/sources/ldap/scimsync.yaml. Needs the Debian packages slapd and ldap-utils.
# The admin DN is cn=admin,dc=example,dc=org with the password "admin".
set -eu
PATH=$PATH:/usr/sbin
here=$(cd "$(dirname "$0")" && pwd)
port=${PORT:-3389}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/db"
modules=""
[ -e /usr/lib/ldap/back_mdb.la ] && modules="modulepath /usr/lib/ldap
moduleload back_mdb"
cat >"$work/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile $work/slapd.pid
$modules
database mdb
suffix "dc=example,dc=org"
rootdn "cn=admin,dc=example,dc=org"
rootpw admin
directory $work/db
CONF
# slapadd does not accept the version line of LDIF files.
grep -v '^version:' "$here/directory.ldif" >"$work/data.ldif"
slapadd -q -f "$work/slapd.conf" -l "$work/data.ldif"
echo "slapd serving ldap://127.0.0.1:$port (Ctrl-C stops it)"
slapd -d 0 -f "$work/slapd.conf" -h "ldap://127.0.0.1:$port/"
