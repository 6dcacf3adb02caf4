//! How domain values are stored: amounts and times as integers, states by name.
//!
//! The impls are generic over the database, so every backend stores them the same way. A
//! stored state iapd does not know is a decoding error, never a guess.

use crate::domain::alert::AlertKind;
use crate::domain::auto_recharge::{DemoCard, RechargeState};
use crate::domain::credits::Credits;
use crate::domain::ledger::{EntryKind, HoldState};
use crate::domain::order::OrderState;
use crate::domain::refund::RefundState;
use crate::domain::time::Timestamp;
use crate::models::{
    DeliveryState, MailState, SmsBatchState, SmsDelivery, SmsFailure, SmsReportState, SmsSource,
    SmsState,
};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

/// Integers in a newtype: credits in minor units, times in Unix milliseconds.
macro_rules! stored_as_i64 {
    ($($ty:ty => $from:path, $to:ident;)*) => {$(
        impl<DB: Database> Type<DB> for $ty
        where
            i64: Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <i64 as Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <i64 as Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: Database> Decode<'r, DB> for $ty
        where
            i64: Decode<'r, DB>,
        {
            fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                Ok($from(<i64 as Decode<'r, DB>>::decode(value)?))
            }
        }

        impl<'q, DB: Database> Encode<'q, DB> for $ty
        where
            i64: Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as Database>::ArgumentBuffer,
            ) -> Result<IsNull, BoxDynError> {
                <i64 as Encode<'q, DB>>::encode(self.$to(), buf)
            }
        }
    )*};
}

stored_as_i64! {
    Credits => Credits::from_minor, minor;
    Timestamp => Timestamp::from_ms, ms;
}

/// Enums stored as their `as_str()` name.
macro_rules! stored_by_name {
    ($($ty:ty),* $(,)?) => {$(
        impl<DB: Database> Type<DB> for $ty
        where
            str: Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: Database> Decode<'r, DB> for $ty
        where
            &'r str: Decode<'r, DB>,
        {
            fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let name = <&'r str as Decode<'r, DB>>::decode(value)?;
                <$ty>::parse(name).ok_or_else(|| {
                    format!("unknown {} {name:?} in the database", stringify!($ty)).into()
                })
            }
        }

        impl<'q, DB: Database> Encode<'q, DB> for $ty
        where
            &'q str: Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as Database>::ArgumentBuffer,
            ) -> Result<IsNull, BoxDynError> {
                <&'q str as Encode<'q, DB>>::encode(self.as_str(), buf)
            }
        }
    )*};
}

stored_by_name!(
    EntryKind,
    HoldState,
    OrderState,
    RefundState,
    AlertKind,
    RechargeState,
    DemoCard,
    DeliveryState,
    MailState,
    SmsState,
    SmsBatchState,
    SmsSource,
    SmsFailure,
    SmsDelivery,
    SmsReportState
);

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn states_and_amounts_round_trip_and_unknown_states_are_errors() {
        let (pool, _) = crate::db::scratch("types").await.expect("db");
        let back: (Credits, Timestamp, OrderState) = sqlx::query_as("SELECT $1, $2, $3")
            .bind(Credits::from_minor(-25))
            .bind(Timestamp::from_ms(1_700_000_000_123))
            .bind(OrderState::Pending)
            .fetch_one(&pool)
            .await
            .expect("round trip");
        assert_eq!(
            back,
            (
                Credits::from_minor(-25),
                Timestamp::from_ms(1_700_000_000_123),
                OrderState::Pending
            )
        );
        let unknown: Result<(OrderState,), _> =
            sqlx::query_as("SELECT 'refunded'").fetch_one(&pool).await;
        assert!(unknown.is_err());
    }
}

/// A yes/no, stored as 0 or 1 on both backends (SQLite has no boolean type; PostgreSQL keeps
/// the same BIGINT so SQL compares flags alike). Reading also accepts a boolean, which is
/// what PostgreSQL computes for a comparison such as `token LIKE '%+disabled'`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flag(pub bool);

impl From<Flag> for bool {
    fn from(flag: Flag) -> bool {
        flag.0
    }
}

impl Type<sqlx::Any> for Flag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <i64 as Type<sqlx::Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <i64 as Type<sqlx::Any>>::compatible(ty) || <bool as Type<sqlx::Any>>::compatible(ty)
    }
}

impl<'r> Decode<'r, sqlx::Any> for Flag {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        use sqlx::ValueRef;
        if value.type_info().kind() == sqlx::any::AnyTypeInfoKind::Bool {
            Ok(Flag(<bool as Decode<'r, sqlx::Any>>::decode(value)?))
        } else {
            Ok(Flag(<i64 as Decode<'r, sqlx::Any>>::decode(value)? != 0))
        }
    }
}

impl Encode<'_, sqlx::Any> for Flag {
    fn encode_by_ref(
        &self,
        buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<'_, sqlx::Any>>::encode(i64::from(self.0), buf)
    }
}
