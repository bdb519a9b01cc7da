//! The reviews, in SQLite: IMDB's (the corpus) and the users', with their predictions.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, params};
use serde::Serialize;

pub struct Store {
    db: Mutex<Connection>,
}

/// A review to store.
pub struct NewReview<'a> {
    pub movie: &'a str,
    pub text: &'a str,
    /// `imdb` or `user`.
    pub source: &'a str,
    /// IMDB's own star rating, when known.
    pub stars: Option<u8>,
    pub probability: f32,
    pub predicted_stars: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewSummary {
    pub id: i64,
    pub text: String,
    pub positive_probability: f32,
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MovieStats {
    pub movie: String,
    pub reviews: usize,
    pub positive_share: f64,
    pub average_predicted_stars: f64,
    pub most_positive: ReviewSummary,
    pub most_negative: ReviewSummary,
}

impl Store {
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let db = Connection::open(path)?;
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS reviews (
                 id INTEGER PRIMARY KEY,
                 movie TEXT NOT NULL,
                 text TEXT NOT NULL,
                 source TEXT NOT NULL,
                 stars INTEGER,
                 probability REAL NOT NULL,
                 predicted_stars REAL NOT NULL,
                 created TEXT NOT NULL DEFAULT (datetime('now'))
             );
             CREATE INDEX IF NOT EXISTS reviews_movie ON reviews (movie);",
        )?;
        Ok(Self { db: Mutex::new(db) })
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.db
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn insert(&self, review: &NewReview) -> rusqlite::Result<i64> {
        let db = self.db();
        db.execute(
            "INSERT INTO reviews (movie, text, source, stars, probability, predicted_stars) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![review.movie, review.text, review.source, review.stars, review.probability, review.predicted_stars],
        )?;
        Ok(db.last_insert_rowid())
    }

    /// Many reviews in one transaction.
    pub fn insert_all(&self, reviews: &[NewReview]) -> rusqlite::Result<()> {
        let mut db = self.db();
        let tx = db.transaction()?;
        for r in reviews {
            tx.execute(
                "INSERT INTO reviews (movie, text, source, stars, probability, predicted_stars) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![r.movie, r.text, r.source, r.stars, r.probability, r.predicted_stars],
            )?;
        }
        tx.commit()
    }

    pub fn count(&self, source: &str) -> rusqlite::Result<usize> {
        self.db()
            .query_row(
                "SELECT COUNT(*) FROM reviews WHERE source = ?1",
                [source],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as usize)
    }

    /// (probability, IMDB stars) of the corpus reviews, to calibrate predicted stars.
    pub fn rated(&self) -> rusqlite::Result<Vec<(f32, u8)>> {
        let db = self.db();
        let mut stmt =
            db.prepare("SELECT probability, stars FROM reviews WHERE stars IS NOT NULL")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, f64>(0)? as f32, r.get::<_, i64>(1)? as u8))
        })?;
        rows.collect()
    }

    /// Recomputes every review's predicted stars on the scale `intercept + slope × p`.
    pub fn rescale(&self, intercept: f32, slope: f32) -> rusqlite::Result<()> {
        self.db().execute(
            "UPDATE reviews SET predicted_stars = MAX(1.0, MIN(10.0, ?1 + ?2 * probability))",
            params![intercept, slope],
        )?;
        Ok(())
    }

    pub fn has_movie(&self, movie: &str) -> rusqlite::Result<bool> {
        self.db().query_row(
            "SELECT EXISTS(SELECT 1 FROM reviews WHERE movie = ?1)",
            [movie],
            |r| r.get(0),
        )
    }

    /// Every movie's statistics, most reviewed first, or one movie's.
    pub fn movies(&self, only: Option<&str>) -> rusqlite::Result<Vec<MovieStats>> {
        let db = self.db();
        let mut stmt = db.prepare(
            "SELECT movie, COUNT(*), AVG(probability >= 0.5), AVG(predicted_stars) FROM reviews
             WHERE ?1 IS NULL OR movie = ?1 GROUP BY movie ORDER BY COUNT(*) DESC, movie",
        )?;
        let groups: Vec<(String, i64, f64, f64)> = stmt
            .query_map([only], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let extreme = |movie: &str, order: &str| -> rusqlite::Result<ReviewSummary> {
            db.query_row(
                &format!("SELECT id, text, probability, source FROM reviews WHERE movie = ?1 ORDER BY probability {order}, id LIMIT 1"),
                [movie],
                |r| {
                    Ok(ReviewSummary {
                        id: r.get(0)?,
                        text: r.get(1)?,
                        positive_probability: r.get::<_, f64>(2)? as f32,
                        source: r.get(3)?,
                    })
                },
            )
        };
        groups
            .into_iter()
            .map(|(movie, n, share, stars)| {
                Ok(MovieStats {
                    most_positive: extreme(&movie, "DESC")?,
                    most_negative: extreme(&movie, "ASC")?,
                    movie,
                    reviews: n as usize,
                    positive_share: share,
                    average_predicted_stars: stars,
                })
            })
            .collect()
    }
}
