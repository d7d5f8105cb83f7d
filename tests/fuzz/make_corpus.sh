#!/usr/bin/env bash
# Writes the seed corpus of each fuzz target into corpus/<target>/ from Cap'n Proto text with
# the `capnp encode` tool (package capnproto), so that the seeds follow the schemas. The files
# are committed; run this again after a schema change. Inputs that once crashed a target are
# kept beside them under names starting with "crash-" and are not touched here.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
corpus="$here/corpus"
cd "$root"

request() { capnp encode server/protocol.capnp Request <<<"$1"; }
event() { capnp encode domain/events.capnp Event <<<"$1"; }
envelope() { capnp encode eventstore/envelope.capnp Envelope <<<"$1"; }
hex() { xxd -p | tr -d '\n'; }
# The session byte of request_handler inputs: 0 no hello yet, 1 clerk, 2 auditor, 3 admin.
session() { printf "\\x$(printf %02x "$1")"; }

digest='0x"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"'
fields='(name = "Ada Lovelace", company = "Analytical Engines", email = "ada@example.org", phone = "+44 20 7946 0000", address = "12 St James Sq\nLondon", notes = "first")'

# ---------------------------------------------------------------- request_handler
dir="$corpus/request_handler"
mkdir -p "$dir"
{ session 0; request '(id = 1, hello = (token = "admin-token"))'; request '(id = 2, create = (fields = '"$fields"'))'
  request '(id = 3, list = (limit = 10))'; } >"$dir/hello-create-list"
{ session 0; request '(id = 1, hello = (token = "wrong"))'; request '(id = 2, stats = void)'; } >"$dir/hello-refused"
{ session 0; request '(id = 9, get = (number = 1))'; } >"$dir/no-hello"
{ session 3; request '(id = 1, requestKey = 0x"6b6579", create = (fields = (name = "Bo"), number = 42))'
  request '(id = 2, requestKey = 0x"6b6579", create = (fields = (name = "Bo"), number = 42))'
  request '(id = 3, edit = (number = 42, changes = [(field = email, value = "bo@example.org"), (field = notes, value = "vip")], expectRevision = 1))'
  request '(id = 4, history = (number = 42))'; } >"$dir/admin-create-retry-edit-history"
{ session 3; request '(id = 1, create = (fields = (name = "Cy"), number = 7))'
  request '(id = 2, delete = (numbers = [7, 8]))'; request '(id = 3, delete = (numbers = [7]))'
  request '(id = 4, undelete = (numbers = [7]))'; request '(id = 5, delete = (numbers = [7]))'
  request '(id = 6, purge = (confirm = true, expectCount = 1, wait = true))'; } >"$dir/admin-delete-undelete-purge"
{ session 1; request '(id = 1, purge = (confirm = true))'; request '(id = 2, list = (search = "ada", deleted = true))'
  request '(id = 3, create = (fields = (name = "", email = "not-an-email")))'; } >"$dir/clerk-forbidden-invalid"
{ session 2; request '(id = 1, subscribe = (fromSeq = 1))'; request '(id = 2, stats = void)'
  request '(id = 3, hello = (token = "auditor-token"))'; } >"$dir/auditor-subscribe-stats"
{ session 3; request '(id = 1, edit = (number = 1, changes = [(field = name, value = "x")]))' | head -c 40; } >"$dir/truncated-frame"
{ session 3; printf '\xff\xff\xff\x7f\x00\x00\x00\x00'; } >"$dir/huge-segment-count"

# ---------------------------------------------------------------- frame_parser
# The first byte is the parser's settings: bit 7 small limits, bits 2-6 the read sizes.
dir="$corpus/frame_parser"
mkdir -p "$dir"
{ printf '\x00'; request '(id = 1, hello = (token = "t"))'; request '(id = 2, get = (number = 5))'; } >"$dir/two-frames"
{ printf '\x7c'; request '(id = 3, create = (fields = '"$fields"'))'; } >"$dir/one-frame-small-reads"
{ printf '\x81'; request '(id = 3, create = (fields = '"$fields"'))'; } >"$dir/over-small-limit"
{ printf '\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00'; printf '\0%.0s' {1..16}; } >"$dir/two-segments"
{ printf '\x00\x00\x00\x00\x00\x00\x00\x00\x00'; } >"$dir/empty-segment"
{ printf '\x00\x00\x00\x00\x00\xff\xff\xff\xff'; } >"$dir/segment-too-large"
{ printf '\x00\x00\x02\x00\x00'; } >"$dir/too-many-segments"
{ printf '\x00'; request '(id = 4, list = (limit = 5))' | head -c 20; } >"$dir/truncated"

# ---------------------------------------------------------------- envelope
# Stored values: envelopes of entry 1 and bare event payloads.
dir="$corpus/envelope"
mkdir -p "$dir"
created_event='(created = (id = 1, number = 1, fields = '"$fields"'))'
event "$created_event" >"$dir/event-created"
event '(edited = (id = 1, number = 1, changes = [(field = phone, value = "+1 555"), (field = address, value = "")]))' >"$dir/event-edited"
event '(deleted = (id = 1, number = 1))' >"$dir/event-deleted"
event '(undeleted = (id = 1, number = 1))' >"$dir/event-undeleted"
event '(purged = (ids = [1, 2], numbers = [1, 2], entriesRedacted = [3, 1], merkleRoot = '"$digest"'))' >"$dir/event-purged"
event '(purged = (ids = [1, 2], numbers = [1]))' >"$dir/event-purged-uneven"
event '(edited = (id = 1, number = 1, changes = [(field = notes, value = "a")]))' | head -c 40 >"$dir/event-truncated"
payload="$(event "$created_event" | hex)"
envelope '(seq = 1, at = 1700000000000000, actor = "clerk1", request = 0x"6b6579", customer = 1, kind = 1, payload = 0x"'"$payload"'", digest = '"$digest"', chain = '"$digest"')' >"$dir/envelope-created"
envelope '(seq = 1, at = 1700000000000000, actor = "clerk1", customer = 1, kind = 1, digest = '"$digest"', chain = '"$digest"', redactedBy = 9)' >"$dir/envelope-stub"
envelope '(seq = 2, actor = "clerk1", customer = 1, kind = 3, digest = '"$digest"', chain = '"$digest"')' >"$dir/envelope-wrong-seq"
envelope '(seq = 1, actor = "clerk1", customer = 1, kind = 3, digest = 0x"0011", chain = '"$digest"')' >"$dir/envelope-short-digest"
printf 'not a message' >"$dir/not-words"

# ---------------------------------------------------------------- csv_import
# Against a directory where number 5 is active and 6 deleted.
dir="$corpus/csv_import"
mkdir -p "$dir"
header='number,name,company,email,phone,address,notes'
printf '%s\r\n7,"Müller, Jürgen","ACME ""Tools""",jm@example.de,+49 30 1234,"Hauptstr. 1\n10115 Berlin",\n,Zoë 東京,,,,,"first line\nsecond, line"\n' "$header" >"$dir/quoted-utf8"
printf '\xef\xbb\xbf%s\n1,Ada,,,,,\n2,Bo,,bo@example.org,,,\n' "$header" >"$dir/bom"
printf 'Number , NAME,company,email,phone,address,notes\n,Cy,,,,,\n' >"$dir/header-case"
printf '%s\n5,Held,,,,,\n6,Deleted,,,,,\n8,Twice,,,,,\n8,Again,,,,,\nx1,NaN,,,,,\n1000000000000,Big,,,,,\n' "$header" >"$dir/bad-numbers"
printf '%s\n,,,,,,\n,Bad Mail,,not-an-email,,,\n,Short\n,"Two\nLines",,,,,\n' "$header" >"$dir/bad-rows"
printf '%s\n,"open,,,,,\n' "$header" >"$dir/unclosed-quote"
printf '%s\n,"a"b,,,,,\n' "$header" >"$dir/text-after-quote"
printf 'name,number\n' >"$dir/wrong-header"
