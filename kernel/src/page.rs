//! Keyset pagination shared by every list, both ways: `first` + `after` reads forward from an
//! opaque cursor, `last` + `before` backward (the order reversed, limited, reversed back).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef};
use sea_orm::{ColumnTrait, Condition, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, Select};

use crate::error::{AppError, AppResult};

pub const DEFAULT_PAGE: u64 = 50;
pub const MAX_PAGE: u64 = 100;

/// A validated page request: `size` items beyond `cursor` (the key the previous page ended on,
/// or the next page began with when `backward`). `C` is the list's cursor: an id by default.
#[derive(Clone, Copy, Debug)]
pub struct PageRequest<C = uuid::Uuid> {
    pub size: u64,
    pub cursor: Option<C>,
    pub backward: bool,
}

impl PageRequest<String> {
    /// Checks the four Relay arguments: `first`/`after` page forward, `last`/`before`
    /// backward; mixing the two directions (`first` with `last`, …) is `VALIDATION`.
    pub fn parse(
        first: Option<i64>,
        after: Option<String>,
        last: Option<i64>,
        before: Option<String>,
    ) -> AppResult<Self> {
        let backward = last.is_some() || before.is_some();
        if backward && (first.is_some() || after.is_some()) {
            let field = if first.is_some() && last.is_some() { "last" } else { "before" };
            return Err(AppError::invalid(
                field,
                "Page forward with `first`/`after` or backward with `last`/`before`, not both.",
            ));
        }
        let (count, field) = if backward { (last, "last") } else { (first, "first") };
        let size = match count {
            None => DEFAULT_PAGE,
            Some(n) => u64::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_PAGE).contains(n))
                .ok_or_else(|| AppError::invalid(field, format!("Ask for 1 to {MAX_PAGE} items.")))?,
        };
        Ok(Self { size, cursor: if backward { before } else { after }, backward })
    }

    /// The same request with its cursor decoded by `decode`.
    pub fn decode<C>(self, decode: impl FnOnce(&str, &'static str) -> AppResult<C>) -> AppResult<PageRequest<C>> {
        let field = self.cursor_field();
        let cursor = self.cursor.as_deref().map(|raw| decode(raw, field)).transpose()?;
        Ok(PageRequest { size: self.size, cursor, backward: self.backward })
    }
}

impl PageRequest {
    /// Checks the Relay arguments of a list whose cursors are ids.
    pub fn new(
        first: Option<i64>,
        after: Option<String>,
        last: Option<i64>,
        before: Option<String>,
    ) -> AppResult<Self> {
        PageRequest::parse(first, after, last, before)?.decode(decode_cursor)
    }

    /// `query` paged by its id column alone (ids are UUID v7: creation order).
    pub fn by_id<E: EntityTrait, Col: ColumnTrait>(&self, query: Select<E>, id: Col, ascending: bool) -> Select<E> {
        self.keyset(query, [id], self.cursor.map(|c| vec![c.into()]), ascending)
    }
}

impl<C> PageRequest<C> {
    /// The first page of `size` items forward.
    pub fn first(size: u64) -> Self {
        Self { size, cursor: None, backward: false }
    }

    /// The argument its cursor came in, for error messages.
    pub fn cursor_field(&self) -> &'static str {
        if self.backward { "before" } else { "after" }
    }

    /// `query` ordered by `columns` (the list's order, all `ascending` or all descending, its
    /// last column unique), read in this page's direction beyond `key` (the cursor's values of
    /// those columns), one row more than the page to tell whether there is more.
    pub fn keyset<E, Col>(
        &self,
        query: Select<E>,
        columns: impl IntoIterator<Item = Col> + Clone,
        key: Option<Vec<sea_orm::Value>>,
        ascending: bool,
    ) -> Select<E>
    where
        E: EntityTrait,
        Col: IntoColumnRef,
    {
        let reads_ascending = ascending != self.backward;
        let mut query = match key {
            Some(key) => query.filter(beyond(columns.clone(), key, reads_ascending)),
            None => query,
        };
        let order = if reads_ascending { Order::Asc } else { Order::Desc };
        for col in columns {
            query = query.order_by(Expr::col(col), order.clone());
        }
        query.limit(self.size + 1)
    }
}

/// Rows strictly beyond `key` along `columns`, as one row-value comparison (one range on an
/// index leading with those columns, on both databases).
pub fn beyond<Col: IntoColumnRef>(
    columns: impl IntoIterator<Item = Col>,
    key: Vec<sea_orm::Value>,
    ascending: bool,
) -> Condition {
    let row = Expr::tuple(columns.into_iter().map(|c| Expr::col(c)));
    let key = Expr::tuple(key.into_iter().map(Expr::val));
    Condition::all().add(if ascending { row.gt(key) } else { row.lt(key) })
}

/// One page of a list, with the total count of the whole (filtered) list.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub total_count: u64,
}

impl<T> Page<T> {
    /// Builds a page from `size + 1` rows read in the request's direction: the extra row only
    /// says there is more that way; a backward page is turned back into the list's order. The
    /// other way, there is more when the page starts from a cursor (the cursor's row, or what
    /// took its place).
    pub fn from_overfetch<C>(mut items: Vec<T>, request: &PageRequest<C>, total_count: u64) -> Self {
        let more = items.len() as u64 > request.size;
        items.truncate(usize::try_from(request.size).unwrap_or(usize::MAX));
        let from_cursor = request.cursor.is_some();
        if request.backward {
            items.reverse();
        }
        let (has_next_page, has_previous_page) =
            if request.backward { (from_cursor, more) } else { (more, from_cursor) };
        Self { items, has_next_page, has_previous_page, total_count }
    }
}

pub fn encode_cursor(id: uuid::Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

/// Decodes an id cursor sent in the argument `field`.
pub fn decode_cursor(cursor: &str, field: &'static str) -> AppResult<uuid::Uuid> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| uuid::Uuid::from_slice(&b).ok())
        .ok_or_else(|| AppError::invalid(field, "This cursor is not valid."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_is_bounded() {
        assert!(PageRequest::new(Some(0), None, None, None).is_err());
        assert!(PageRequest::new(Some(101), None, None, None).is_err());
        assert!(PageRequest::new(None, None, Some(101), None).is_err());
        assert_eq!(PageRequest::new(None, None, None, None).map(|p| p.size).ok(), Some(50));
        assert_eq!(PageRequest::new(None, None, Some(3), None).map(|p| (p.size, p.backward)).ok(), Some((3, true)));
    }

    #[test]
    fn directions_do_not_mix() {
        let cursor = || Some(encode_cursor(uuid::Uuid::from_u128(1)));
        let err = PageRequest::new(Some(2), None, Some(2), None).err().map(|e| e.field().map(str::to_owned));
        assert_eq!(err, Some(Some("last".into())));
        assert!(PageRequest::new(Some(2), None, None, cursor()).is_err());
        assert!(PageRequest::new(None, cursor(), Some(2), None).is_err());
        assert!(PageRequest::new(None, None, None, cursor()).is_ok_and(|p| p.backward));
    }

    #[test]
    fn backward_pages_come_back_in_list_order() {
        let request = PageRequest::<()> { size: 2, cursor: Some(()), backward: true };
        let page = Page::from_overfetch(vec![5, 4, 3], &request, 9);
        assert_eq!(page.items, [4, 5]);
        assert!(page.has_previous_page && page.has_next_page);
        let page = Page::from_overfetch(vec![1, 2], &PageRequest::<()>::first(2), 2);
        assert!(!page.has_previous_page && !page.has_next_page);
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = uuid::Uuid::from_u128(99);
        assert_eq!(decode_cursor(&encode_cursor(id), "after").ok(), Some(id));
        assert!(decode_cursor("not a cursor", "before").is_err_and(|e| e.field() == Some("before")));
    }
}
