//! The life of an application (заявление): its statuses and the only ways between them.
//!
//! ```text
//! черновик ─send→ отправлено ─accept→ принято ─take→ в обработке ─complete→ услуга оказана
//!                                                      │  ↑                 ─refuse→   отказ
//!                                        request_info  ↓  │ correct
//!                                              требуется уточнение → исправлено ─take→ в обработке
//! отправлено | принято | требуется уточнение ─cancel (if the service allows)→ отменено заявителем
//! ```
//!
//! A transition is asked for as an [`Event`] by an [`Actor`]; [`Status::apply`] answers with the
//! next status or says why not. Nothing else changes a status, so an illegal one cannot be
//! stored.

use std::fmt;

/// Where an application is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Being filled in; only the applicant sees it.
    Draft,
    /// Sent by the applicant, waiting for the agency.
    Sent,
    /// Registered by the agency.
    Accepted,
    /// An officer works on it.
    InProgress,
    /// The officer asked the applicant for something.
    NeedsInfo,
    /// The applicant answered; back to the officer.
    Corrected,
    /// Done, with a result.
    Done,
    /// Refused, with a reason.
    Refused,
    /// Withdrawn by the applicant.
    Cancelled,
}

/// What someone asks to happen to an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// The applicant sends the draft.
    Send,
    /// The agency registers it.
    Accept,
    /// An officer takes it into work.
    Take,
    /// The officer asks the applicant for corrections.
    RequestInfo,
    /// The applicant answers the request.
    Correct,
    /// The officer completes it with a result.
    Complete,
    /// The officer refuses it with a reason.
    Refuse,
    /// The applicant withdraws it.
    Cancel,
}

/// Who asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    /// The person who applied.
    Applicant,
    /// An officer of the agency (in the console or through the agency API).
    Officer,
}

/// Why a transition was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// Not possible from this status.
    #[error("Это действие невозможно: заявление {0}")]
    NotNow(StatusPhrase),
    /// Possible, but not for this actor.
    #[error("Это действие выполняет другой участник")]
    NotYours,
    /// The service does not let applicants withdraw.
    #[error("Эту услугу нельзя отменить после отправки")]
    NotCancellable,
}

/// A status as it reads after «заявление …» in a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusPhrase(Status);

impl StatusPhrase {
    /// The phrase of `status`.
    pub fn of(status: Status) -> StatusPhrase {
        StatusPhrase(status)
    }
}

impl fmt::Display for StatusPhrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Status::Draft => "ещё не отправлено",
            Status::Sent => "уже отправлено",
            Status::Accepted => "уже принято ведомством",
            Status::InProgress => "уже в обработке",
            Status::NeedsInfo => "ждёт уточнения от заявителя",
            Status::Corrected => "уже исправлено",
            Status::Done => "уже исполнено",
            Status::Refused => "уже отклонено",
            Status::Cancelled => "уже отменено",
        })
    }
}

impl Status {
    /// Every status, in the order of the life of an application.
    pub const ALL: [Status; 9] = [
        Status::Draft,
        Status::Sent,
        Status::Accepted,
        Status::InProgress,
        Status::NeedsInfo,
        Status::Corrected,
        Status::Done,
        Status::Refused,
        Status::Cancelled,
    ];

    /// The status after `event` asked by `actor`; `cancellable` says whether the service lets
    /// applicants withdraw.
    ///
    /// # Errors
    /// When the event is not possible now, not for this actor, or the service forbids it.
    pub fn apply(
        self,
        event: Event,
        actor: Actor,
        cancellable: bool,
    ) -> Result<Status, TransitionError> {
        use Status as S;
        let (next, by) = match (self, event) {
            (S::Draft, Event::Send) => (S::Sent, Actor::Applicant),
            (S::Sent, Event::Accept) => (S::Accepted, Actor::Officer),
            (S::Sent | S::Accepted | S::Corrected, Event::Take) => (S::InProgress, Actor::Officer),
            (S::InProgress, Event::RequestInfo) => (S::NeedsInfo, Actor::Officer),
            (S::NeedsInfo, Event::Correct) => (S::Corrected, Actor::Applicant),
            (S::InProgress, Event::Complete) => (S::Done, Actor::Officer),
            (S::InProgress, Event::Refuse) => (S::Refused, Actor::Officer),
            (S::Sent | S::Accepted | S::NeedsInfo, Event::Cancel) => {
                if actor == Actor::Applicant && !cancellable {
                    return Err(TransitionError::NotCancellable);
                }
                (S::Cancelled, Actor::Applicant)
            }
            _ => return Err(TransitionError::NotNow(StatusPhrase(self))),
        };
        if actor != by {
            return Err(TransitionError::NotYours);
        }
        Ok(next)
    }

    /// Whether nothing can happen to it any more.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Done | Status::Refused | Status::Cancelled)
    }

    /// Whether the applicant has to act.
    pub fn awaits_applicant(self) -> bool {
        matches!(self, Status::Draft | Status::NeedsInfo)
    }

    /// The label people see.
    pub fn label(self) -> &'static str {
        match self {
            Status::Draft => "Черновик",
            Status::Sent => "Отправлено",
            Status::Accepted => "Принято ведомством",
            Status::InProgress => "В обработке",
            Status::NeedsInfo => "Требуется уточнение",
            Status::Corrected => "Исправлено заявителем",
            Status::Done => "Услуга оказана",
            Status::Refused => "Отказ",
            Status::Cancelled => "Отменено заявителем",
        }
    }

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Sent => "sent",
            Status::Accepted => "accepted",
            Status::InProgress => "in_progress",
            Status::NeedsInfo => "needs_info",
            Status::Corrected => "corrected",
            Status::Done => "done",
            Status::Refused => "refused",
            Status::Cancelled => "cancelled",
        }
    }

    /// Reads the stored form.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl Event {
    /// The stored form (in the history).
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Send => "send",
            Event::Accept => "accept",
            Event::Take => "take",
            Event::RequestInfo => "request_info",
            Event::Correct => "correct",
            Event::Complete => "complete",
            Event::Refuse => "refuse",
            Event::Cancel => "cancel",
        }
    }
}

impl Actor {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Applicant => "applicant",
            Actor::Officer => "officer",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENTS: [Event; 8] = [
        Event::Send,
        Event::Accept,
        Event::Take,
        Event::RequestInfo,
        Event::Correct,
        Event::Complete,
        Event::Refuse,
        Event::Cancel,
    ];

    #[test]
    fn the_whole_way_from_draft_to_result() {
        let s = Status::Draft
            .apply(Event::Send, Actor::Applicant, true)
            .unwrap()
            .apply(Event::Accept, Actor::Officer, true)
            .unwrap()
            .apply(Event::Take, Actor::Officer, true)
            .unwrap()
            .apply(Event::RequestInfo, Actor::Officer, true)
            .unwrap()
            .apply(Event::Correct, Actor::Applicant, true)
            .unwrap()
            .apply(Event::Take, Actor::Officer, true)
            .unwrap()
            .apply(Event::Complete, Actor::Officer, true)
            .unwrap();
        assert_eq!(s, Status::Done);
        assert!(s.is_final());
    }

    #[test]
    fn final_statuses_allow_nothing() {
        for s in [Status::Done, Status::Refused, Status::Cancelled] {
            for e in EVENTS {
                for a in [Actor::Applicant, Actor::Officer] {
                    assert!(s.apply(e, a, true).is_err(), "{s:?} {e:?} {a:?}");
                }
            }
        }
    }

    #[test]
    fn each_event_belongs_to_one_actor() {
        assert_eq!(
            Status::Draft.apply(Event::Send, Actor::Officer, true),
            Err(TransitionError::NotYours)
        );
        assert_eq!(
            Status::InProgress.apply(Event::Complete, Actor::Applicant, true),
            Err(TransitionError::NotYours)
        );
        assert_eq!(
            Status::NeedsInfo.apply(Event::Correct, Actor::Officer, true),
            Err(TransitionError::NotYours)
        );
    }

    #[test]
    fn cancelling_depends_on_the_service_and_the_moment() {
        assert_eq!(
            Status::Sent.apply(Event::Cancel, Actor::Applicant, true),
            Ok(Status::Cancelled)
        );
        assert_eq!(
            Status::Sent.apply(Event::Cancel, Actor::Applicant, false),
            Err(TransitionError::NotCancellable)
        );
        // Once an officer works on it, the decision is theirs.
        assert!(matches!(
            Status::InProgress.apply(Event::Cancel, Actor::Applicant, true),
            Err(TransitionError::NotNow(_))
        ));
        assert_eq!(
            Status::InProgress
                .apply(Event::Cancel, Actor::Applicant, true)
                .unwrap_err()
                .to_string(),
            "Это действие невозможно: заявление уже в обработке"
        );
    }

    #[test]
    fn exactly_the_drawn_transitions_exist() {
        let mut legal = 0;
        for s in Status::ALL {
            for e in EVENTS {
                if [Actor::Applicant, Actor::Officer]
                    .into_iter()
                    .any(|a| s.apply(e, a, true).is_ok())
                {
                    legal += 1;
                }
            }
        }
        // send, accept, take ×3, request_info, correct, complete, refuse, cancel ×3
        assert_eq!(legal, 12);
    }

    #[test]
    fn stored_forms_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("unknown"), None);
    }
}
