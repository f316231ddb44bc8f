//! Which databases, tables and columns are captured.
//!
//! Semantics follow Debezium's `RelationalTableFilters` exactly, because a
//! table that Debezium captured and we do not (or the reverse) is a silent
//! difference on the wire:
//!
//! - each list is comma-separated regular expressions; a comma inside a
//!   regex is written `\,`; items are trimmed and empty items dropped;
//! - every regex must match the *whole* name (Java's `matches()`), and
//!   matching is case-insensitive (Debezium compiles with
//!   `Pattern.CASE_INSENSITIVE`);
//! - databases match `db`, tables `db.table`, columns `db.table.column`;
//! - a table is captured when its database passes the database filter, it
//!   passes the table filter, and (with `table.ignore.builtin`) its database
//!   is not `mysql`, `sys`, `performance_schema` or `information_schema`;
//! - the database filter alone does not apply `table.ignore.builtin`, as in
//!   Debezium; the column filter is independent of the table filter.
//!
//! Regexes use Rust's `regex` syntax, which differs from Java's in rare
//! constructs (no look-around, no backreferences); those are reported as
//! invalid at load time rather than matching differently.

use regex::RegexSet;

use super::error::ConfigError;

/// The databases whose tables `table.ignore.builtin` skips.
pub const BUILTIN_DATABASES: [&str; 4] =
    ["mysql", "sys", "performance_schema", "information_schema"];

/// Whether `db` is one of [`BUILTIN_DATABASES`] (case-insensitively, as Debezium).
pub fn is_builtin_database(db: &str) -> bool {
    BUILTIN_DATABASES.iter().any(|b| b.eq_ignore_ascii_case(db))
}

/// The compiled capture filters. `Default` captures everything except
/// built-in databases' tables.
#[derive(Debug, Clone)]
pub struct Filters {
    pub(crate) databases: NameFilter,
    pub(crate) tables: NameFilter,
    pub(crate) columns: NameFilter,
    pub(crate) ignore_builtin: bool,
}

impl Default for Filters {
    fn default() -> Self {
        Filters {
            databases: NameFilter::All,
            tables: NameFilter::All,
            columns: NameFilter::All,
            ignore_builtin: true,
        }
    }
}

impl Filters {
    /// `database.include.list` / `database.exclude.list`.
    pub fn include_database(&self, db: &str) -> bool {
        self.databases.accepts(db)
    }

    /// `table.include.list` / `table.exclude.list`, the database filter and
    /// `table.ignore.builtin`.
    pub fn include_table(&self, db: &str, table: &str) -> bool {
        if self.ignore_builtin && is_builtin_database(db) {
            return false;
        }
        self.databases.accepts(db) && self.tables.accepts(&format!("{db}.{table}"))
    }

    /// `column.include.list` / `column.exclude.list`, on `db.table.column`.
    pub fn include_column(&self, db: &str, table: &str, column: &str) -> bool {
        self.columns.accepts(&format!("{db}.{table}.{column}"))
    }

    /// `table.ignore.builtin`.
    pub fn ignores_builtin(&self) -> bool {
        self.ignore_builtin
    }
}

/// One kind's filter: everything, an include list, or an exclude list.
#[derive(Debug, Clone)]
pub(crate) enum NameFilter {
    All,
    Include(RegexList),
    Exclude(RegexList),
}

impl NameFilter {
    fn accepts(&self, name: &str) -> bool {
        match self {
            NameFilter::All => true,
            NameFilter::Include(list) => list.matches(name),
            NameFilter::Exclude(list) => !list.matches(name),
        }
    }

    /// Builds the filter for one kind from its two optional lists. Both set
    /// is an error, as in Debezium.
    pub(crate) fn from_lists(
        include: Option<(&str, &str)>,
        exclude: Option<(&str, &str)>,
    ) -> Result<NameFilter, Vec<ConfigError>> {
        match (include, exclude) {
            (Some((inc, _)), Some((exc, _))) => Err(vec![ConfigError::Conflict {
                property: inc.to_string(),
                other: exc.to_string(),
            }]),
            (Some((property, value)), None) => {
                Ok(NameFilter::Include(RegexList::parse(property, value)?))
            }
            (None, Some((property, value))) => {
                Ok(NameFilter::Exclude(RegexList::parse(property, value)?))
            }
            (None, None) => Ok(NameFilter::All),
        }
    }
}

/// A compiled comma-separated list of anchored, case-insensitive regexes.
#[derive(Debug, Clone)]
pub struct RegexList {
    set: RegexSet,
}

impl RegexList {
    /// Compiles `value` of `property`; every invalid regex is reported.
    pub fn parse(property: &str, value: &str) -> Result<RegexList, Vec<ConfigError>> {
        let mut patterns = Vec::new();
        let mut errors = Vec::new();
        for item in split_list(value) {
            let anchored = format!("(?i)^(?:{item})$");
            match regex::Regex::new(&anchored) {
                Ok(_) => patterns.push(anchored),
                Err(e) => errors.push(ConfigError::Regex {
                    property: property.to_string(),
                    regex: item,
                    message: regex_message(&e),
                }),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let set = RegexSet::new(&patterns).map_err(|e| {
            vec![ConfigError::Regex {
                property: property.to_string(),
                regex: value.to_string(),
                message: e.to_string(),
            }]
        })?;
        Ok(RegexList { set })
    }

    /// Whether any regex matches all of `name`.
    pub fn matches(&self, name: &str) -> bool {
        self.set.is_match(name)
    }

    /// How many regexes the list holds.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

/// Splits on commas not preceded by a backslash; `\,` becomes `,`; items are
/// trimmed and empty ones dropped (Debezium's `RegExSplitterByComma`).
pub fn split_list(value: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(',') => current.push(','),
                Some(other) => {
                    current.push('\\');
                    current.push(other);
                }
                None => current.push('\\'),
            },
            ',' => items.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    items.push(current);
    items
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The regex crate's message is multi-line with a caret diagram; keep the
/// last line, which says what is wrong.
fn regex_message(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(&text)
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(db: NameFilter, tables: NameFilter, columns: NameFilter, builtin: bool) -> Filters {
        Filters {
            databases: db,
            tables,
            columns,
            ignore_builtin: builtin,
        }
    }

    fn inc(value: &str) -> NameFilter {
        NameFilter::Include(RegexList::parse("p", value).unwrap())
    }

    fn exc(value: &str) -> NameFilter {
        NameFilter::Exclude(RegexList::parse("p", value).unwrap())
    }

    #[test]
    fn split_handles_escaped_commas_blanks_and_empties() {
        assert_eq!(split_list("a, b ,,c"), vec!["a", "b", "c"]);
        assert_eq!(split_list(r"x{1\,3},y"), vec!["x{1,3}", "y"]);
        assert_eq!(split_list(r"a\.b"), vec![r"a\.b"]);
        assert!(split_list("").is_empty());
        assert!(split_list(" , ").is_empty());
    }

    #[test]
    fn regexes_match_whole_names_case_insensitively() {
        let list = RegexList::parse("p", "inventory\\.cust.*, shop.orders").unwrap();
        assert!(list.matches("inventory.customers"));
        assert!(list.matches("INVENTORY.Customers"));
        assert!(!list.matches("xinventory.customers"));
        assert!(list.matches("shop.orders"));
        assert!(
            list.matches("shopXorders"),
            "an unescaped dot is any character, as in Debezium"
        );
        assert!(!list.matches("shop.orders_archive"));
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn alternation_is_anchored_as_a_whole() {
        let list = RegexList::parse("p", "a|b").unwrap();
        assert!(list.matches("a") && list.matches("b"));
        assert!(!list.matches("ab") && !list.matches("xb"));
    }

    #[test]
    fn invalid_regexes_are_reported_with_property_and_regex() {
        let errs = RegexList::parse("table.include.list", "good, bad(, also[bad").unwrap_err();
        assert_eq!(errs.len(), 2);
        match &errs[0] {
            ConfigError::Regex {
                property, regex, ..
            } => {
                assert_eq!(property, "table.include.list");
                assert_eq!(regex, "bad(");
            }
            other => panic!("{other}"),
        }
        assert!(errs[0]
            .to_string()
            .starts_with("`table.include.list`: invalid regular expression `bad(`: "));
    }

    #[test]
    fn include_and_exclude_of_one_kind_conflict() {
        let err = NameFilter::from_lists(
            Some(("table.include.list", "a")),
            Some(("table.exclude.list", "b")),
        )
        .unwrap_err();
        assert!(matches!(&err[0], ConfigError::Conflict { .. }));
    }

    #[test]
    fn tables_need_database_table_and_builtin_filters() {
        let f = filters(
            inc("inventory"),
            exc("inventory\\.secret.*"),
            NameFilter::All,
            true,
        );
        assert!(f.include_database("inventory"));
        assert!(!f.include_database("other"));
        assert!(f.include_table("inventory", "customers"));
        assert!(!f.include_table("inventory", "secrets"));
        assert!(!f.include_table("other", "customers"));
    }

    #[test]
    fn builtin_databases_are_skipped_only_for_tables_and_only_when_asked() {
        let f = Filters::default();
        assert!(!f.include_table("mysql", "user"));
        assert!(!f.include_table("Performance_Schema", "threads"));
        assert!(f.include_database("mysql"));
        assert!(f.include_table("inventory", "x"));
        let f = filters(NameFilter::All, NameFilter::All, NameFilter::All, false);
        assert!(f.include_table("mysql", "user"));
        assert!(!f.ignores_builtin());
    }

    #[test]
    fn columns_match_db_table_column() {
        let f = filters(
            NameFilter::All,
            NameFilter::All,
            exc("inventory\\.customers\\.(email|ssn)"),
            true,
        );
        assert!(f.include_column("inventory", "customers", "id"));
        assert!(!f.include_column("inventory", "customers", "email"));
        assert!(!f.include_column("inventory", "customers", "SSN"));
        assert!(f.include_column("inventory", "orders", "email"));
        let f = filters(NameFilter::All, NameFilter::All, inc(".*\\.id"), true);
        assert!(f.include_column("a", "b", "id"));
        assert!(!f.include_column("a", "b", "name"));
    }
}
