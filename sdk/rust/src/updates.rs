//! Builders for the data a plugin returns: [`Updates`], [`AdapterOutput`], [`NewEntity`], and helpers
//! on [`EntityTable`].

use crate::{AdapterOutput, EntityTable, NewEntity, NumberColumn, TextValue, TimeUs, Updates};

impl Updates {
    /// An empty batch of updates valid at `time`.
    ///
    /// ```
    /// use sangam_sdk::Updates;
    /// let updates = Updates::new(3_600_000_000)
    ///     .number("traffic.flow", "veh/h", &[0, 1], &[1200.0, 830.0])
    ///     .text(1, "traffic.state", "congested");
    /// assert_eq!(updates.numbers[0].values, vec![1200.0, 830.0]);
    /// assert_eq!(updates.texts.len(), 1);
    /// ```
    pub fn new(time: TimeUs) -> Self {
        Updates { time, numbers: Vec::new(), texts: Vec::new() }
    }

    /// Adds a column: numeric `property` in `unit` for `entities` (indices), one value each.
    ///
    /// # Panics
    ///
    /// When `entities` and `values` differ in length (a bug in the plugin; the host would reject the
    /// column anyway).
    pub fn number(mut self, property: &str, unit: &str, entities: &[u32], values: &[f64]) -> Self {
        assert_eq!(
            entities.len(),
            values.len(),
            "Updates::number({property:?}): {} entity indices but {} values",
            entities.len(),
            values.len()
        );
        self.numbers.push(NumberColumn {
            property: property.to_string(),
            unit: unit.to_string(),
            entities: entities.to_vec(),
            values: values.to_vec(),
        });
        self
    }

    /// Adds a column built elsewhere (no copy).
    pub fn column(mut self, column: NumberColumn) -> Self {
        self.numbers.push(column);
        self
    }

    /// Appends one value of `property` for `entity`, to the last column of that property and unit if
    /// there is one, else to a new column. Handy for adapters that meet values row by row.
    ///
    /// ```
    /// use sangam_sdk::Updates;
    /// let mut updates = Updates::new(0);
    /// updates.push_number("flow", "veh/h", 0, 10.0);
    /// updates.push_number("flow", "veh/h", 1, 20.0);
    /// assert_eq!(updates.numbers.len(), 1);
    /// assert_eq!(updates.numbers[0].entities, vec![0, 1]);
    /// ```
    pub fn push_number(&mut self, property: &str, unit: &str, entity: u32, value: f64) {
        match self.numbers.iter_mut().rev().find(|c| c.property == property && c.unit == unit) {
            Some(column) => {
                column.entities.push(entity);
                column.values.push(value);
            }
            None => self.numbers.push(NumberColumn {
                property: property.to_string(),
                unit: unit.to_string(),
                entities: vec![entity],
                values: vec![value],
            }),
        }
    }

    /// Adds text `property` = `value` for `entity`.
    pub fn text(mut self, entity: u32, property: &str, value: &str) -> Self {
        self.push_text(entity, property, value);
        self
    }

    /// Adds text `property` = `value` for `entity` (in place).
    pub fn push_text(&mut self, entity: u32, property: &str, value: &str) {
        self.texts.push(TextValue { entity, property: property.to_string(), value: value.to_string() });
    }

    /// The number of values (numeric and text) in the batch.
    pub fn len(&self) -> usize {
        self.numbers.iter().map(|c| c.values.len()).sum::<usize>() + self.texts.len()
    }

    /// True when the batch holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl AdapterOutput {
    /// An output whose `updates` refer to entities by index into `keys`, adding no new entity.
    ///
    /// ```
    /// use sangam_sdk::{AdapterOutput, NewEntity, Updates};
    /// let out = AdapterOutput::new(vec!["counter/301".into()], Updates::new(0).number("flow", "veh/h", &[0], &[950.0]))
    ///     .entity(NewEntity::new("counter/301", "traffic-counter").at(44.98, -93.26, 250.0));
    /// assert_eq!(out.entities.len(), 1);
    /// ```
    pub fn new(keys: Vec<String>, updates: Updates) -> Self {
        AdapterOutput { keys, entities: Vec::new(), updates }
    }

    /// Adds an entity to create before the updates are applied.
    pub fn entity(mut self, entity: NewEntity) -> Self {
        self.entities.push(entity);
        self
    }

    /// The number this output gives `property` of the entity with id `entity` (the first, if it
    /// gives several): what a plugin's tests check.
    ///
    /// ```
    /// use sangam_sdk::{AdapterOutput, Updates};
    /// let out = AdapterOutput::new(vec!["s1".into()], Updates::new(0).number("flow", "veh/h", &[0], &[950.0]));
    /// assert_eq!(out.number_of("s1", "flow"), Some(950.0));
    /// assert_eq!(out.number_of("s2", "flow"), None);
    /// ```
    pub fn number_of(&self, entity: &str, property: &str) -> Option<f64> {
        let k = self.keys.iter().position(|key| key == entity)? as u32;
        self.updates
            .numbers
            .iter()
            .filter(|c| c.property == property)
            .find_map(|c| c.entities.iter().position(|&e| e == k).and_then(|i| c.values.get(i).copied()))
    }

    /// The text this output gives `property` of the entity with id `entity` (the first, if several).
    pub fn text_of(&self, entity: &str, property: &str) -> Option<&str> {
        let k = self.keys.iter().position(|key| key == entity)? as u32;
        self.updates.texts.iter().find(|t| t.entity == k && t.property == property).map(|t| t.value.as_str())
    }
}

impl NewEntity {
    /// An entity `id` of `kind`, unnamed, at latitude, longitude and altitude 0 (set them with
    /// [`at`](Self::at)).
    pub fn new(id: &str, kind: &str) -> Self {
        NewEntity {
            id: id.to_string(),
            kind: kind.to_string(),
            name: String::new(),
            latitude: 0.0,
            longitude: 0.0,
            altitude: 0.0,
        }
    }

    /// Sets the display name.
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// Sets the WGS84 position: latitude and longitude in degrees, altitude above the ellipsoid in
    /// metres.
    pub fn at(mut self, latitude: f64, longitude: f64, altitude: f64) -> Self {
        self.latitude = latitude;
        self.longitude = longitude;
        self.altitude = altitude;
        self
    }
}

impl EntityTable {
    /// The number of entities in the table.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when the table is empty.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Every index of the table, `0..len`, ready for [`twin::numbers`](crate::twin::numbers).
    ///
    /// ```
    /// use sangam_sdk::EntityTable;
    /// let table = EntityTable { ids: vec!["a".into(), "b".into()], kinds: vec!["k".into(); 2], positions: vec![0.0; 6] };
    /// assert_eq!(table.indices(), vec![0, 1]);
    /// ```
    pub fn indices(&self) -> Vec<u32> {
        (0..self.ids.len().min(u32::MAX as usize) as u32).collect()
    }

    /// The site-frame position (metres east, north, up) of entity `index`, if the table has one.
    pub fn position(&self, index: u32) -> Option<[f64; 3]> {
        let i = usize::try_from(index).ok()?.checked_mul(3)?;
        let p = self.positions.get(i..i + 3)?;
        Some([p[0], p[1], p[2]])
    }

    /// The index of the entity with id `id`, if it is in the table (a linear search: build a map
    /// once in `init` when you need many).
    pub fn index_of(&self, id: &str) -> Option<u32> {
        self.ids.iter().position(|x| x == id).and_then(|i| u32::try_from(i).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_columns_keep_order_and_units() {
        let u = Updates::new(5).number("a", "m", &[2, 0], &[1.5, -2.0]).number("b", "", &[1], &[3.0]);
        assert_eq!(u.time, 5);
        assert_eq!(u.numbers.len(), 2);
        assert_eq!(u.numbers[0].entities, vec![2, 0]);
        assert_eq!(u.numbers[0].unit, "m");
        assert_eq!(u.numbers[1].property, "b");
        assert_eq!(u.len(), 3);
    }

    #[test]
    #[should_panic(expected = "2 entity indices but 1 values")]
    fn mismatched_column_is_a_plugin_bug() {
        let _ = Updates::new(0).number("a", "", &[0, 1], &[1.0]);
    }

    #[test]
    fn push_number_groups_by_property_and_unit() {
        let mut u = Updates::new(0);
        u.push_number("flow", "veh/h", 0, 1.0);
        u.push_number("speed", "km/h", 0, 50.0);
        u.push_number("flow", "veh/h", 1, 2.0);
        u.push_number("flow", "veh/d", 1, 48.0);
        assert_eq!(u.numbers.len(), 3);
        assert_eq!(u.numbers[0].values, vec![1.0, 2.0]);
        assert_eq!(u.numbers[2].unit, "veh/d");
        assert!(!u.is_empty());
        assert!(Updates::new(0).is_empty());
    }

    #[test]
    fn entity_table_positions_are_bounds_checked() {
        let t = EntityTable {
            ids: vec!["a".into(), "b".into()],
            kinds: vec!["k".into(), "k".into()],
            positions: vec![1.0, 2.0, 3.0, 4.0, 5.0],
        };
        assert_eq!(t.position(0), Some([1.0, 2.0, 3.0]));
        assert_eq!(t.position(1), None, "table has only 5 coordinates");
        assert_eq!(t.position(u32::MAX), None);
        assert_eq!(t.index_of("b"), Some(1));
        assert_eq!(t.index_of("c"), None);
        assert_eq!(t.len(), 2);
    }
}
