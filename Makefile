# The two commands of the README:
#   make run   set everything up, load the demo province, start the product (SQLite)
#   make test  set everything up, run the whole suite on SQLite and on PostgreSQL

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SYSTEM_PACKAGES := libzbar0 poppler-utils
TEST_SYSTEM_PACKAGES := chromium
TEST_PG ?= postgresql://postgres@127.0.0.1:5432
# The soak test restarts the local PostgreSQL cluster (pg_ctlcluster); 0 for a server that is not ours.
TEST_PG_RESTART ?= 1
export ATTENDANCE_INSTANCE ?= $(CURDIR)/instance

.PHONY: setup run test test-sqlite test-postgres bench clean

$(BIN)/.installed: pyproject.toml
	scripts/system-packages.sh $(SYSTEM_PACKAGES)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup: $(BIN)/.installed

# The demo province is Quảng Nam's: its example config names the agency and the place on
# every official PDF, and gives the wards their own timetable.
run: export ATTENDANCE_CONFIG ?= $(CURDIR)/config/example-province.toml
run: setup
	$(BIN)/attendance init-db
	$(BIN)/attendance demo --if-empty
	$(BIN)/attendance serve --demo-station

test: setup
	scripts/system-packages.sh $(TEST_SYSTEM_PACKAGES)
	$(MAKE) test-sqlite test-postgres

test-sqlite:
	$(BIN)/pytest -q

test-postgres:
	ATTENDANCE_TEST_DATABASE_URL=$(TEST_PG) $(BIN)/pytest -q -m db
	# In a process of its own: the restart also cuts the connections other tests' fixtures keep.
	CI_SOAK_PG_RESTART=$(TEST_PG_RESTART) ATTENDANCE_TEST_DATABASE_URL=$(TEST_PG) \
		$(BIN)/pytest -q tests/test_soak.py -k restarted

bench: setup
	$(BIN)/python -m bench.daily_report
	$(BIN)/python -m bench.decode
	$(BIN)/python -m bench.feedback

clean:
	rm -rf $(VENV) instance .pytest_cache
