// Boost.JSON in header-only mode: Debian 12 ships no compiled libboost_json, so its sources
// are compiled here, once for every target (the library ledger_json).
#include <boost/json/src.hpp>
