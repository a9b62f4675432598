//! Messages to people (welcome with access data, password reset, registration) in their
//! language, and the mail outbox: a message is a `mail_outbox` row written in the transaction
//! that decides to send it, handed to the [`Mailer`] right after commit, and retried by
//! [`MailOutbox::deliver_pending`] while it is not sent.

use std::sync::Arc;

use chrono::Duration;
use clientele_kernel::db::Handles;
use clientele_kernel::mail::{Mail, Mailer};
use clientele_kernel::{AppResult, Language, OrgKind, TenantCtx, TenantId, TenantTx};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ActiveValue::Unchanged, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::entity::mail_outbox;
use crate::system_ctx;

/// Attempts before a message is given up (its row stays, with the last error).
const MAX_ATTEMPTS: i32 = 10;
/// Rows younger than this are left to the delivery that follows their commit.
const GRACE: Duration = Duration::seconds(60);

/// What a message is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum MailKind {
    /// ORG-20: welcome with the login and a set-password link.
    AccessData,
    /// USR-04: a "forgot password" link.
    PasswordReset,
    /// ORG-02: the new super-admin of a self-registered organisation.
    Registered,
    /// ORG-02: a registration link a supplier mails to a prospect.
    RegistrationInvite,
}

/// The values a message is filled with.
#[derive(Debug)]
pub struct Letter<'a> {
    pub name: &'a str,
    pub organisation: &'a str,
    pub login: &'a str,
    pub link: &'a str,
    pub valid_hours: i64,
}

/// Subject and body templates per kind, in en, fr and de; other languages get English.
fn templates(kind: MailKind, language: Language) -> (&'static str, &'static str) {
    match (kind, language) {
        (MailKind::AccessData, Language::Fr) => (
            "Vos accès à {organisation}",
            "Bonjour {name},\n\nun compte a été créé pour vous chez {organisation}.\n\
             Choisissez votre mot de passe avec ce lien (valable {hours} heures, utilisable une seule fois) :\n\n{link}\n\n\
             Votre identifiant est l'adresse e-mail {login}. Nous n'envoyons jamais de mot de passe par e-mail.\n\
             Si vous n'attendiez pas ce message, ignorez-le.\n",
        ),
        (MailKind::AccessData, Language::De) => (
            "Ihr Zugang zu {organisation}",
            "Guten Tag {name},\n\nfür Sie wurde ein Konto bei {organisation} eingerichtet.\n\
             Legen Sie Ihr Passwort über diesen Link fest (gültig {hours} Stunden, nur einmal verwendbar):\n\n{link}\n\n\
             Ihr Benutzername ist die E-Mail-Adresse {login}. Passwörter versenden wir nie per E-Mail.\n\
             Falls Sie diese Nachricht nicht erwartet haben, ignorieren Sie sie bitte.\n",
        ),
        (MailKind::AccessData, _) => (
            "Your access to {organisation}",
            "Hello {name},\n\nan account has been created for you at {organisation}.\n\
             Choose your password with this link (valid {hours} hours, usable once):\n\n{link}\n\n\
             Your login is the e-mail address {login}. We never send passwords by e-mail.\n\
             If you did not expect this message, ignore it.\n",
        ),
        (MailKind::PasswordReset, Language::Fr) => (
            "Réinitialisation de votre mot de passe",
            "Bonjour {name},\n\nla réinitialisation du mot de passe de votre compte {login} chez {organisation} a été demandée.\n\
             Choisissez un nouveau mot de passe avec ce lien (valable {hours} heures, utilisable une seule fois) :\n\n{link}\n\n\
             Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot de passe reste inchangé.\n",
        ),
        (MailKind::PasswordReset, Language::De) => (
            "Passwort zurücksetzen",
            "Guten Tag {name},\n\nfür Ihr Konto {login} bei {organisation} wurde das Zurücksetzen des Passworts angefordert.\n\
             Legen Sie über diesen Link ein neues Passwort fest (gültig {hours} Stunden, nur einmal verwendbar):\n\n{link}\n\n\
             Falls Sie das nicht waren, ignorieren Sie diese Nachricht: Ihr Passwort bleibt unverändert.\n",
        ),
        (MailKind::PasswordReset, _) => (
            "Reset your password",
            "Hello {name},\n\nsomeone asked to reset the password of your account {login} at {organisation}.\n\
             Choose a new password with this link (valid {hours} hours, usable once):\n\n{link}\n\n\
             If it was not you, ignore this message: your password stays unchanged.\n",
        ),
        (MailKind::Registered, Language::Fr) => (
            "Inscription de {organisation}",
            "Bonjour {name},\n\nmerci d'avoir inscrit {organisation}. Vous en êtes l'administrateur.\n\
             Choisissez votre mot de passe avec ce lien (valable {hours} heures, utilisable une seule fois) :\n\n{link}\n\n\
             Votre identifiant est l'adresse e-mail {login}. Nous n'envoyons jamais de mot de passe par e-mail.\n",
        ),
        (MailKind::Registered, Language::De) => (
            "Registrierung von {organisation}",
            "Guten Tag {name},\n\nvielen Dank für die Registrierung von {organisation}. Sie sind deren Administrator.\n\
             Legen Sie Ihr Passwort über diesen Link fest (gültig {hours} Stunden, nur einmal verwendbar):\n\n{link}\n\n\
             Ihr Benutzername ist die E-Mail-Adresse {login}. Passwörter versenden wir nie per E-Mail.\n",
        ),
        (MailKind::RegistrationInvite, Language::Fr) => (
            "{organisation} vous invite à inscrire votre organisation",
            "Bonjour,\n\n{organisation} vous invite à inscrire votre organisation.\n\
             Inscrivez-la avec ce lien (valable {hours} heures) ; vous en serez l'administrateur :\n\n{link}\n\n\
             Si vous n'attendiez pas ce message, ignorez-le.\n",
        ),
        (MailKind::RegistrationInvite, Language::De) => (
            "{organisation} lädt Sie zur Registrierung Ihrer Organisation ein",
            "Guten Tag,\n\n{organisation} lädt Sie ein, Ihre Organisation zu registrieren.\n\
             Registrieren Sie sie über diesen Link (gültig {hours} Stunden); Sie werden ihr Administrator:\n\n{link}\n\n\
             Falls Sie diese Nachricht nicht erwartet haben, ignorieren Sie sie bitte.\n",
        ),
        (MailKind::RegistrationInvite, _) => (
            "{organisation} invites you to register your organisation",
            "Hello,\n\n{organisation} invites you to register your organisation.\n\
             Register it with this link (valid {hours} hours); you will be its administrator:\n\n{link}\n\n\
             If you did not expect this message, ignore it.\n",
        ),
        (MailKind::Registered, _) => (
            "Registration of {organisation}",
            "Hello {name},\n\nthank you for registering {organisation}. You are its administrator.\n\
             Choose your password with this link (valid {hours} hours, usable once):\n\n{link}\n\n\
             Your login is the e-mail address {login}. We never send passwords by e-mail.\n",
        ),
    }
}

/// Fills `{placeholders}` in one pass, so a value that looks like a placeholder stays as typed.
fn fill(template: &str, letter: &Letter<'_>) -> String {
    let hours = letter.valid_hours.to_string();
    let mut out = String::with_capacity(template.len() + 128);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let end = after.find('}').map_or(after.len(), |e| e + 1);
        out.push_str(match &after[..end] {
            "{name}" => letter.name,
            "{organisation}" => letter.organisation,
            "{login}" => letter.login,
            "{link}" => letter.link,
            "{hours}" => &hours,
            other => other,
        });
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The message of `kind` for a recipient who reads `language`.
pub fn render(kind: MailKind, language: Language, to: &str, letter: &Letter<'_>) -> Mail {
    let (subject, body) = templates(kind, language);
    // One line: a name with a line break must not reshape the subject.
    let subject = fill(subject, letter).replace(['\r', '\n'], " ");
    Mail { to: to.to_owned(), subject, body: fill(body, letter) }
}

/// Hides one-time secrets in a delivered body: the outbox keeps what was said, not a usable link.
fn redact(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find("token=") {
        out.push_str(&rest[..at + "token=".len()]);
        rest = &rest[at + "token=".len()..];
        let secret_len =
            rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).unwrap_or(rest.len());
        out.push_str("[redacted]");
        rest = &rest[secret_len..];
    }
    out.push_str(rest);
    out
}

/// Queues and delivers mail through the configured [`Mailer`].
#[derive(Clone)]
pub struct MailOutbox {
    handles: Arc<Handles>,
    mailer: Arc<dyn Mailer>,
}

impl MailOutbox {
    pub fn new(handles: Arc<Handles>, mailer: Arc<dyn Mailer>) -> Self {
        Self { handles, mailer }
    }

    /// Writes `mail` to the outbox of the transaction's tenant; it leaves only if `tx` commits.
    pub(crate) async fn enqueue(&self, tx: &TenantTx, kind: MailKind, mail: Mail) -> AppResult<uuid::Uuid> {
        let id = self.handles.new_id();
        mail_outbox::ActiveModel {
            tenant_id: Set(tx.tenant()),
            id: Set(id),
            recipient: Set(mail.to),
            subject: Set(mail.subject),
            body: Set(mail.body),
            kind: Set(<&str>::from(kind).to_owned()),
            attempts: Set(0),
            last_error: Set(None),
            created_at: Set(self.handles.now()),
            sent_at: Set(None),
        }
        .insert(tx.conn())
        .await?;
        Ok(id)
    }

    /// Delivers committed messages in the background: the request does not wait for the mail
    /// server, and a failure is left to [`deliver_pending`](Self::deliver_pending).
    pub(crate) fn deliver_soon(&self, tenant: TenantId, ids: Vec<uuid::Uuid>) {
        let outbox = self.clone();
        tokio::spawn(async move {
            for id in ids {
                if let Err(err) = outbox.deliver(tenant, id).await {
                    tracing::warn!(%tenant, %id, error = %err, "mail delivery failed; it will be retried");
                }
            }
        });
    }

    /// Sends one message unless it was sent or given up; `true` once it is sent.
    pub async fn deliver(&self, tenant: TenantId, id: uuid::Uuid) -> AppResult<bool> {
        let ctx = system_ctx(&self.handles, tenant, OrgKind::Customer);
        let tx = ctx.begin().await?;
        let Some(row) = mail_outbox::Entity::find_by_id((tenant, id)).one(tx.conn()).await? else {
            return Ok(false);
        };
        if row.sent_at.is_some() || row.attempts >= MAX_ATTEMPTS {
            return Ok(false);
        }
        // Claim the attempt: of two deliveries that read the same row, only one sends it.
        let claimed = mail_outbox::Entity::update_many()
            .col_expr(mail_outbox::Column::Attempts, Expr::col(mail_outbox::Column::Attempts).add(1))
            .filter(mail_outbox::Column::TenantId.eq(tenant))
            .filter(mail_outbox::Column::Id.eq(id))
            .filter(mail_outbox::Column::SentAt.is_null())
            .filter(mail_outbox::Column::Attempts.eq(row.attempts))
            .exec(tx.conn())
            .await?
            .rows_affected
            == 1;
        tx.commit().await?;
        if !claimed {
            return Ok(false);
        }
        let mail = Mail { to: row.recipient.clone(), subject: row.subject.clone(), body: row.body.clone() };
        let sent = self.mailer.send(tenant, &mail).await;
        let mut update =
            mail_outbox::ActiveModel { tenant_id: Unchanged(tenant), id: Unchanged(id), ..Default::default() };
        match &sent {
            Ok(()) => {
                update.sent_at = Set(Some(self.handles.now()));
                update.body = Set(redact(&row.body));
                update.last_error = Set(None);
            }
            Err(err) => update.last_error = Set(Some(err.to_string().chars().take(500).collect())),
        }
        let tx = ctx.begin().await?;
        update.update(tx.conn()).await?;
        tx.commit().await?;
        sent.map(|()| true)
    }

    /// The tenant's messages still to send (neither sent nor given up): how many, and when the
    /// oldest was written (sampled for `/metrics`).
    pub async fn backlog(&self, ctx: &TenantCtx) -> AppResult<(u64, Option<chrono::DateTime<chrono::Utc>>)> {
        let waiting = || {
            mail_outbox::Entity::find()
                .filter(mail_outbox::Column::TenantId.eq(ctx.tenant()))
                .filter(mail_outbox::Column::SentAt.is_null())
                .filter(mail_outbox::Column::Attempts.lt(MAX_ATTEMPTS))
        };
        let tx = ctx.read().await?;
        let count = waiting().count(tx.conn()).await?;
        let oldest: Option<chrono::DateTime<chrono::Utc>> = waiting()
            .select_only()
            .column(mail_outbox::Column::CreatedAt)
            .order_by_asc(mail_outbox::Column::CreatedAt)
            .into_tuple()
            .one(tx.conn())
            .await?;
        tx.commit().await?;
        Ok((count, oldest))
    }

    /// Retries the tenant's unsent messages older than a minute; returns how many left.
    pub async fn deliver_pending(&self, ctx: &TenantCtx) -> AppResult<u64> {
        let tx = ctx.read().await?;
        let ids: Vec<uuid::Uuid> = mail_outbox::Entity::find()
            .select_only()
            .column(mail_outbox::Column::Id)
            .filter(mail_outbox::Column::TenantId.eq(ctx.tenant()))
            .filter(mail_outbox::Column::SentAt.is_null())
            .filter(mail_outbox::Column::Attempts.lt(MAX_ATTEMPTS))
            .filter(mail_outbox::Column::CreatedAt.lt(self.handles.now() - GRACE))
            .limit(100)
            .into_tuple()
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        let mut sent = 0;
        for id in ids {
            match self.deliver(ctx.tenant(), id).await {
                Ok(true) => sent += 1,
                Ok(false) => {}
                Err(err) => tracing::warn!(tenant = %ctx.tenant(), %id, error = %err, "mail retry failed"),
            }
        }
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter() -> Letter<'static> {
        Letter {
            name: "Ada {link}",
            organisation: "Martin\nSARL",
            login: "ada@martin.test",
            link: "https://x.test/set-password?token=clo_abc-DEF_1",
            valid_hours: 72,
        }
    }

    #[test]
    fn messages_speak_the_recipients_language_and_fall_back_to_english() {
        let fr = render(MailKind::AccessData, Language::Fr, "a@b.test", &letter());
        assert!(fr.subject.starts_with("Vos accès") && fr.body.contains("72 heures"), "{fr:?}");
        let de = render(MailKind::PasswordReset, Language::De, "a@b.test", &letter());
        assert_eq!(de.subject, "Passwort zurücksetzen");
        let it = render(MailKind::Registered, Language::It, "a@b.test", &letter());
        assert!(it.body.starts_with("Hello Ada {link},"), "values are not re-filled: {}", it.body);
        assert_eq!(it.subject, "Registration of Martin SARL");
        assert!(it.body.contains("https://x.test/set-password?token=clo_abc-DEF_1\n"));
    }

    #[test]
    fn delivered_bodies_lose_their_secrets() {
        let body = "Open https://x.test/set-password?token=clo_abc-DEF_1 now.\nOr token=clo_zz";
        assert_eq!(redact(body), "Open https://x.test/set-password?token=[redacted] now.\nOr token=[redacted]");
    }
}
