"""Limits: a bound on everything a request, a command or an imported file can make (TigerBeetle
style, qualifier last). A request over a limit is refused before any work is done.

A text's length is that of the column that stores it (where one does); each field of a request
also stays within the limits on the request as a whole at the end of this module.
"""

from __future__ import annotations

import datetime as dt

# ---- movements ---------------------------------------------------------------------------------

lines_per_transaction_max = 200
# An opening (期初建账) records a whole warehouse's shelves in one voucher per location: a city
# warehouse with many batches needs more lines than any movement.
opening_lines_per_transaction_max = 5_000
postings_per_transaction_max = (
    2 * max(lines_per_transaction_max, opening_lines_per_transaction_max) + 2
)
transactions_per_batch_max = 10_000
quantity_per_line_max = 2_000_000_000  # fits a 32-bit signed integer with room to sum
retries_max = 8
shares_per_plan_max = 1_000  # locations one allocation plan splits over
reason_code_length_max = 40  # transactions.reason: why stock was written off or adjusted
reservation_reference_length_max = 80  # reservations.reference: the request it is for
# The ledger's dates: business dates, as-of and report dates, print, manufacture and expiry dates.
date_min = dt.date(2000, 1, 1)
date_max = dt.date(2099, 12, 31)

# ---- text ----------------------------------------------------------------------------------------

memo_length_max = 500
code_length_max = 40
name_length_max = 200
category_length_max = 40  # items.category, as stored
unit_name_length_max = 10  # a base unit or a pack's name (张, 捆, 箱 …)
packs_per_item_max = 10
location_path_length_max = 400  # codes from the root down, as stored (locations.path)
population_max = 2_000_000_000  # a location's population, as imported (a weight of a plan)
print_plan_places_max = 100_000  # places one print-run plan (印制计划) covers
print_copies_max = 1_000  # base units a coverage target gives each household, person or place
# Reasons and notes a user writes on a decision.
reject_reason_length_max = 500  # a request rejected
override_reason_length_max = 200  # a later-expiring batch shipped or scanned before FEFO's
shortage_note_length_max = 200  # what was short on arrival
approval_reason_length_max = 300  # a stocktake approved
recount_reason_length_max = 500  # stocktake lines sent back for recount

# ---- users and keys ------------------------------------------------------------------------------

user_label_length_max = 200  # users.label: what a user (or a program) is called
role_length_max = 20  # users.role, as a query names it
token_length_max = 200  # a bearer token as sent (ours are 47 characters)
# Signing in to the web workspace.
login_length_max = 64  # users.login: clerk@510121
password_length_min = 8
password_length_max = 200  # argon2 hashes any length; a bound keeps a request's work bounded
sign_in_attempts_max = 5  # failed sign-ins in a row before the name is locked
sign_in_lock_minutes = 15  # how long it stays locked
session_idle_minutes_default = 30  # a web session ends after this long without a request
session_touch_seconds = 60  # last_seen_at is written at most this often per session
idempotency_key_length_max = 200  # what a client sends (the Idempotency-Key header)
# A key the API derives from a client's (the user before it, a plan's location after it).
idempotency_key_derived_length_max = 2 * idempotency_key_length_max

# ---- packs, labels and scanning -----------------------------------------------------------------

packs_per_batch_max = 100_000  # labels one batch may have
packs_per_transaction_max = 100_000  # labels one voucher (all its lines) may cut
pack_serial_max = 9_999_999  # a label carries a pack's serial in at most seven digits
label_payload_length_max = 200  # characters of a scanned label (ours: at most 130)
label_columns_max = 6  # labels across an A4 sheet
label_rows_max = 14  # labels down an A4 sheet
label_margin_mm_max = 30  # a label sheet's page margin
scans_per_document_max = 10_000

# ---- stocktakes, reports and the log -------------------------------------------------------------

stocktake_locations_max = 1_000  # places (and items) one count may name
near_expiry_days_max = 3_650  # how far ahead the near-expiry report looks
norm_months_max = 36  # months of consumption a stock norm's minimum or maximum may be
demand_growth_percent_min = -50  # a demand plan's growth setting, percent (one decimal)
demand_growth_percent_max = 100
audit_sample_size_max = 1_000  # accounts one audit sample draws
checkpoints_per_verification_max = 100
log_action_length_max = 40  # operations_log.action, or its prefix
log_object_type_length_max = 40  # operations_log.object_type
log_object_key_length_max = 200  # operations_log.object_key
page_size_max = 200  # rows one page of a list answers
offset_max = 10_000_000  # rows a list may skip

# ---- imports -------------------------------------------------------------------------------------

# A spreadsheet sent to POST /api/v1/imports/{kind} (that route only): a 3,000-village tree is
# 0.09 MB as .xlsx, 10,000 opening-balance lines 0.20 MB (bench/import_opening.py).
import_file_bytes_max = 20 * 1_048_576
# What one imported file may hold, checked while it is read (a small .xlsx can unpack to
# gigabytes, or hold millions of rows): its .xlsx parts unpacked, its data rows (a 3,000-village
# tree and 10,000 opening lines fit; the 50,000-line worst case is timed in docs/import.md), and
# the characters of one cell.
import_unpacked_bytes_max = 100 * 1_048_576
import_rows_max = 50_000
import_cell_length_max = 1_000
# This many empty rows in a row end a file's data (a sheet formatted down to row 1,048,576 is
# read no further: its million empty rows would take 9 s to parse).
import_empty_rows_run_max = 1_000
problems_listed_max = 1_000  # an import answers at most this many problems (and says how many)
file_name_length_max = 100  # of an imported file's name, as the log keeps it

# ---- one HTTP request ----------------------------------------------------------------------------

# What one HTTP request may carry; each field also has its own, smaller limit.
request_body_bytes_max = 1_048_576
request_depth_max = 8  # nesting of objects and arrays in a body
request_array_length_max = 1_000
request_text_length_max = 2_000  # characters in any one string (a body's, a query's, a path's)
integer_magnitude_max = 2_147_483_647  # any integer in a request fits a 32-bit signed integer
