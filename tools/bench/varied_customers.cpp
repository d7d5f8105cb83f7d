#include "tools/bench/varied_customers.h"

#include <array>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace ledger::bench {
namespace {

// A name as written and as it appears in an e-mail address.
struct Name {
  std::string_view written;
  std::string_view ascii;
};

// Most common first: Draw::skewed picks the first entries far more often than the last.
constexpr std::array<Name, 64> kFirstNames{{
    {"James", "james"},       {"Maria", "maria"},         {"Anna", "anna"},         {"David", "david"},
    {"José", "jose"},         {"Sarah", "sarah"},         {"Michael", "michael"},   {"Laura", "laura"},
    {"Thomas", "thomas"},     {"Emma", "emma"},           {"Jürgen", "juergen"},    {"Sophie", "sophie"},
    {"Peter", "peter"},       {"Julia", "julia"},         {"François", "francois"}, {"Olivia", "olivia"},
    {"Daniel", "daniel"},     {"Chloé", "chloe"},         {"Robert", "robert"},     {"Hannah", "hannah"},
    {"Ahmed", "ahmed"},       {"Fatima", "fatima"},       {"Søren", "soren"},       {"Ingrid", "ingrid"},
    {"Łukasz", "lukasz"},     {"Agnieszka", "agnieszka"}, {"Dmitri", "dmitri"},     {"Olga", "olga"},
    {"Giovanni", "giovanni"}, {"Francesca", "francesca"}, {"Zoë", "zoe"},           {"Björn", "bjorn"},
    {"Hélène", "helene"},     {"Mehmet", "mehmet"},       {"Ayşe", "ayse"},         {"Raj", "raj"},
    {"Priya", "priya"},       {"Kwame", "kwame"},         {"Amara", "amara"},       {"Niamh", "niamh"},
    {"Siobhán", "siobhan"},   {"Bartholomew", "bart"},    {"Wilhelmina", "mina"},   {"Ørjan", "orjan"},
    {"Dvořák", "dvorak"},     {"Eszter", "eszter"},       {"Kalinda", "kalinda"},   {"Ignacio", "ignacio"},
    {"Ximena", "ximena"},     {"Tadhg", "tadhg"},         {"Dmitrij", "dmitrij"},   {"Oluwaseun", "seun"},
    {"Дмитрий", "dmitry"},    {"Наталья", "natalya"},     {"Σοφία", "sofia"},       {"Νικόλαος", "nikolaos"},
    {"Thảo", "thao"},         {"Nguyệt", "nguyet"},       {"Aurélien", "aurelien"}, {"Ludovic", "ludovic"},
    {"Małgorzata", "gosia"},  {"Þórunn", "thorunn"},      {"Gwenllian", "gwen"},    {"Leopold", "leopold"},
}};

constexpr std::array<Name, 56> kSurnames{{
    {"Smith", "smith"},         {"Müller", "mueller"},      {"García", "garcia"},     {"Jones", "jones"},
    {"Martin", "martin"},       {"Schmidt", "schmidt"},     {"Brown", "brown"},       {"Rossi", "rossi"},
    {"Nguyễn", "nguyen"},       {"Dubois", "dubois"},       {"Williams", "williams"}, {"Fernández", "fernandez"},
    {"Kowalski", "kowalski"},   {"Johansson", "johansson"}, {"Taylor", "taylor"},     {"Wagner", "wagner"},
    {"O'Brien", "obrien"},      {"Novák", "novak"},         {"Petrov", "petrov"},     {"Hansen", "hansen"},
    {"Lefèvre", "lefevre"},     {"Yılmaz", "yilmaz"},       {"Patel", "patel"},       {"Okafor", "okafor"},
    {"Walsh", "walsh"},         {"Bianchi", "bianchi"},     {"Ødegård", "odegard"},   {"Nowak", "nowak"},
    {"Schäfer", "schaefer"},    {"Jiménez", "jimenez"},     {"Mendoza", "mendoza"},   {"Fitzgerald", "fitzgerald"},
    {"Andersson", "andersson"}, {"Wiśniewski", "wisniewski"}, {"Horváth", "horvath"}, {"Papadopoulos", "papadopoulos"},
    {"Krishnamurthy", "krishnamurthy"}, {"Abernathy", "abernathy"}, {"Villanueva", "villanueva"},
    {"Cholmondeley", "cholmondeley"}, {"Zwierzchowski", "zwierzchowski"}, {"Featherstonehaugh", "fenshaw"},
    {"Иванова", "ivanova"},     {"Смирнов", "smirnov"},     {"Παπαδάκης", "papadakis"}, {"Γεωργίου", "georgiou"},
    {"Đặng", "dang"},           {"Trần", "tran"},           {"Çelik", "celik"},       {"Şahin", "sahin"},
    {"Kristjánsdóttir", "kristjansdottir"}, {"Ní Bhriain", "nibhriain"}, {"Le Gall", "legall"},
    {"Żółkiewski", "zolkiewski"}, {"Dvořáková", "dvorakova"}, {"Van der Berg", "vanderberg"},
}};

// Names written as one word, surname first.
constexpr std::array<Name, 8> kWholeNames{{
    {"王小明", "wang.xiaoming"},   {"李娜", "li.na"},           {"张伟", "zhang.wei"},       {"欧阳娜娜", "ouyang.nana"},
    {"佐藤花子", "sato.hanako"},   {"김민준", "kim.minjun"},     {"이서연", "lee.seoyeon"},   {"陈静怡", "chen.jingyi"},
}};

// Syllables of the made-up surnames: the long tail of rare names.
constexpr std::array<std::string_view, 40> kSyllables{
    "bar", "ko", "vin", "stra", "mel", "dor", "ta", "ri", "sel", "wen", "ga", "lor", "mi", "pe", "zan", "hol",
    "ber", "ni", "ves", "tro", "cal", "du", "fen", "jor", "ka", "lis", "mon", "nor", "os", "pra", "ru", "sko",
    "tev", "ul", "var", "wick", "yen", "zel", "ash", "ton"};

constexpr std::array<std::string_view, 8> kMailDomains{
    "gmail.com", "outlook.com", "yahoo.co.uk", "web.de", "gmx.de", "orange.fr", "icloud.com", "proton.me"};

constexpr std::array<std::string_view, 32> kCompanyWords{
    "Northwind", "Acme", "Blue", "Harbour", "Summit", "Granite", "Lakeside", "Meridian", "Oak", "Pioneer", "Silver",
    "Riverside", "Atlas", "Beacon", "Cedar", "Delta", "Evergreen", "Falcon", "Horizon", "Juniper", "Keystone",
    "Lighthouse", "Maple", "Nimbus", "Orchard", "Pinnacle", "Quarry", "Redwood", "Sterling", "Thistle", "Vantage",
    "Willow"};

constexpr std::array<std::string_view, 6> kCompanyKinds{"Ltd", "GmbH", "S.A.", "Inc.", "B.V.", "& Sons"};
constexpr std::array<std::string_view, 8> kTopLevel{".com", ".co.uk", ".de", ".fr", ".nl", ".es", ".se", ".pl"};

constexpr std::array<std::string_view, 16> kStreets{
    "High Street", "Station Road", "Hauptstraße", "Rue de la Paix", "Calle Mayor", "Church Lane", "Mill Road",
    "Kungsgatan", "Via Roma", "Ulica Długa", "Park Avenue", "Victoria Road", "Bahnhofstraße", "Avenue Foch",
    "Storgata", "King Street"};

constexpr std::array<std::string_view, 16> kCities{
    "London", "Berlin", "Paris", "Madrid", "Manchester", "München", "Lyon", "Stockholm", "Rome", "Kraków", "Dublin",
    "Oslo", "Brno", "Thessaloníki", "Leeds", "Göteborg"};

constexpr std::array<std::string_view, 6> kNotes{
    "prefers e-mail", "call before noon", "invoice quarterly", "", "key account", "speaks German and French"};

// A splitmix64 stream: the same `seed` always draws the same values, on any platform.
class Draw {
 public:
  explicit Draw(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n).
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  // In [0, n), the lower indexes far more likely: the first of 64 about 12 % of the time,
  // the last under 1 %.
  std::size_t skewed(std::size_t n) {
    const double u = static_cast<double>(next() >> 11) / 9007199254740992.0;  // [0, 1)
    return static_cast<std::size_t>(u * u * static_cast<double>(n));
  }
  template <typename T, std::size_t N>
  const T& pick(const std::array<T, N>& from) {
    return from[below(N)];
  }
  std::string digits(int n) {
    std::string out;
    for (int k = 0; k < n; ++k) out += static_cast<char>('0' + below(10));
    return out;
  }

 private:
  std::uint64_t state_;
};

// A surname of two or three syllables, capitalized; the same text serves as its ASCII form.
std::string made_up_surname(Draw& draw) {
  std::string out;
  const auto syllables = 2 + draw.below(2);
  for (std::size_t k = 0; k < syllables; ++k) out += draw.pick(kSyllables);
  out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

std::string lowercase_ascii(std::string text) {
  for (auto& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

std::string phone_number(Draw& draw) {
  switch (draw.below(8)) {
    case 0: return fmt::format("+44 20 {} {}", draw.digits(4), draw.digits(4));
    case 1: return fmt::format("+44 7{} {}", draw.digits(3), draw.digits(6));
    case 2: return fmt::format("+49 30 {}", draw.digits(8));
    case 3: return fmt::format("030 {}-{}", draw.digits(4), draw.digits(4));
    case 4: return fmt::format("+33 1 {} {} {} {}", draw.digits(2), draw.digits(2), draw.digits(2), draw.digits(2));
    case 5: return fmt::format("+1 ({}) {}-{}", draw.digits(3), draw.digits(3), draw.digits(4));
    case 6: return fmt::format("08-{} {} {}", draw.digits(3), draw.digits(2), draw.digits(2));
    default: return fmt::format("+34 9{}.{}.{}", draw.digits(2), draw.digits(3), draw.digits(3));
  }
}

}  // namespace

domain::CustomerFields varied_customer_fields(std::uint64_t i) {
  Draw draw(i * 0x2545f4914f6cdd1dULL + 17);
  domain::CustomerFields f;
  std::string local;  // the e-mail address before the '@'
  if (draw.below(100) < 3) {
    const auto& whole = draw.pick(kWholeNames);
    f.name = whole.written;
    local = whole.ascii;
  } else {
    const auto& first = kFirstNames[draw.skewed(kFirstNames.size())];
    std::string surname, surname_ascii;
    if (draw.below(100) < 30) {
      surname = made_up_surname(draw);
      surname_ascii = lowercase_ascii(surname);
    } else {
      const auto& known = kSurnames[draw.skewed(kSurnames.size())];
      surname = known.written;
      surname_ascii = known.ascii;
    }
    f.name = fmt::format("{} {}", first.written, surname);
    switch (draw.below(4)) {
      case 0: local = fmt::format("{}.{}", first.ascii, surname_ascii); break;
      case 1: local = fmt::format("{}{}", first.ascii[0], surname_ascii); break;
      case 2: local = fmt::format("{}.{}{}", first.ascii, surname_ascii, draw.digits(2)); break;
      default: local = fmt::format("{}{}{}", surname_ascii, first.ascii[0], draw.digits(3)); break;
    }
  }
  const auto& word = draw.pick(kCompanyWords);
  f.company = fmt::format("{} {} {}", word, draw.pick(kCompanyWords), draw.pick(kCompanyKinds));
  const bool at_company = draw.below(100) < 40;
  f.email = at_company ? fmt::format("{}@{}{}", local, lowercase_ascii(std::string(word)), draw.pick(kTopLevel))
                       : fmt::format("{}@{}", local, kMailDomains[draw.skewed(kMailDomains.size())]);
  f.phone = phone_number(draw);
  f.address = fmt::format("{} {}, {}", 1 + draw.below(200), draw.pick(kStreets), draw.pick(kCities));
  f.notes = draw.pick(kNotes);
  return f;
}

}  // namespace ledger::bench
